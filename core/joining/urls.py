from django.urls import URLPattern, path

from . import apis, views

# Under /join/.
join_urlpatterns: list[URLPattern] = [
    path("", views.join, name="join"),
    path("check-email/", views.join_check_email, name="join-check-email"),
    path("verify/<str:token>/", views.join_verify, name="join-verify"),
    path("invited/<str:token>/", views.join_invited, name="join-invited"),
]

# The organisers' pages, under /members/ beside core.members' own.
urlpatterns: list[URLPattern] = [
    path("approvals/", views.approvals, name="member-approvals"),
    path("<int:member_id>/approve/", views.approve, name="member-approve"),
    path("<int:member_id>/decline/", views.decline, name="member-decline"),
    path("invitations/", views.invitations, name="member-invitations"),
    path(
        "invitations/<int:invitation_id>/<str:action>/",
        views.invitation_action,
        name="member-invitation-action",
    ),
    path("join-settings/", views.join_settings, name="join-settings"),
]

# Under /api/v1/members/, beside core.members' own.
api_urlpatterns: list[URLPattern] = [
    path("join/", apis.JoinApi.as_view(), name="api-join"),
    path("verify/", apis.VerifyApi.as_view(), name="api-verify"),
    path("join/invited/", apis.InvitationAcceptApi.as_view(), name="api-join-invited"),
    path("invitations/", apis.InvitationsApi.as_view(), name="api-invitations"),
    path("invitations/<int:invitation_id>/", apis.InvitationApi.as_view()),
    path("invitations/<int:invitation_id>/resend/", apis.InvitationResendApi.as_view()),
    path("approvals/", apis.ApprovalQueueApi.as_view(), name="api-approvals"),
    path("<int:member_id>/approve/", apis.ApproveApi.as_view()),
    path("<int:member_id>/decline/", apis.DeclineApi.as_view()),
]

from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from . import apis, views

join_urlpatterns: list[URLPattern] = [
    path("", views.join, name="join"),
    path("check-email/", views.join_check_email, name="join-check-email"),
    path("verify/<str:token>/", views.join_verify, name="join-verify"),
    path("invited/<str:token>/", views.join_invited, name="join-invited"),
]

urlpatterns: list[URLPattern] = [
    path("approvals/", views.approvals, name="member-approvals"),
    path("<int:member_id>/approve/", views.approve, name="member-approve"),
    path("<int:member_id>/decline/", views.decline, name="member-decline"),
    path("roles/", views.roles, name="member-roles"),
    path("invitations/", views.invitations, name="member-invitations"),
    path(
        "invitations/<int:invitation_id>/<str:action>/",
        views.invitation_action,
        name="member-invitation-action",
    ),
    path("<int:member_id>/deactivate/", views.deactivate, name="member-deactivate"),
    path("<int:member_id>/reactivate/", views.reactivate, name="member-reactivate"),
    path("<int:member_id>/role/", views.role_change, name="member-role"),
    path("join-settings/", views.join_settings, name="join-settings"),
    path("<int:member_id>/block/", views.block, name="member-block"),
    path("<int:member_id>/unblock/", views.unblock, name="member-unblock"),
    path("profile/edit/", views.profile_edit, name="profile-edit"),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api-token-revoke"),
]

# Django's own password reset flow; the templates live in members/templates/registration.
password_urlpatterns: list[URLPattern] = [
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

api_urlpatterns: list[URLPattern] = [
    path("join/", apis.JoinApi.as_view(), name="api-join"),
    path("verify/", apis.VerifyApi.as_view(), name="api-verify"),
    path("join/invited/", apis.InvitationAcceptApi.as_view(), name="api-join-invited"),
    path("invitations/", apis.InvitationsApi.as_view(), name="api-invitations"),
    path("invitations/<int:invitation_id>/", apis.InvitationApi.as_view()),
    path("invitations/<int:invitation_id>/resend/", apis.InvitationResendApi.as_view()),
    path("me/", apis.MyProfileApi.as_view(), name="api-my-profile"),
    path("blocks/", apis.BlockListApi.as_view(), name="api-blocks"),
    path("approvals/", apis.ApprovalQueueApi.as_view(), name="api-approvals"),
    path("<int:member_id>/", apis.ProfileApi.as_view(), name="api-member"),
    path("<int:member_id>/block/", apis.BlockApi.as_view(), name="api-member-block"),
    path("<int:member_id>/unblock/", apis.UnblockApi.as_view(), name="api-member-unblock"),
    path("<int:member_id>/approve/", apis.ApproveApi.as_view()),
    path("<int:member_id>/decline/", apis.DeclineApi.as_view()),
    path("<int:member_id>/role/", apis.RoleApi.as_view()),
    path("<int:member_id>/deactivate/", apis.DeactivateApi.as_view()),
    path("<int:member_id>/reactivate/", apis.ReactivateApi.as_view()),
]

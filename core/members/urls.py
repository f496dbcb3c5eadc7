from django.contrib.auth import views as auth_views
from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("roles/", views.roles, name="member-roles"),
    path("<int:member_id>/deactivate/", views.deactivate, name="member-deactivate"),
    path("<int:member_id>/reactivate/", views.reactivate, name="member-reactivate"),
    path("<int:member_id>/role/", views.role_change, name="member-role"),
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
    path("me/", apis.MyProfileApi.as_view(), name="api-my-profile"),
    path("blocks/", apis.BlockListApi.as_view(), name="api-blocks"),
    path("<int:member_id>/", apis.ProfileApi.as_view(), name="api-member"),
    path("<int:member_id>/block/", apis.BlockApi.as_view(), name="api-member-block"),
    path("<int:member_id>/unblock/", apis.UnblockApi.as_view(), name="api-member-unblock"),
    path("<int:member_id>/role/", apis.RoleApi.as_view()),
    path("<int:member_id>/deactivate/", apis.DeactivateApi.as_view()),
    path("<int:member_id>/reactivate/", apis.ReactivateApi.as_view()),
]

from __future__ import annotations

from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.member_list, name="members"),
    path("me/", views.profile_edit, name="profile-edit"),
    path("<int:member_id>/", views.member_detail, name="member-detail"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.MemberListApi.as_view(), name="api-members"),
    path("me/", apis.MyProfileApi.as_view(), name="api-my-profile"),
    path("join/", apis.JoinApi.as_view(), name="api-join"),
    path("pending/", apis.PendingMembersApi.as_view(), name="api-members-pending"),
    path("<int:member_id>/approve/", apis.MemberApproveApi.as_view()),
    path("<int:member_id>/decline/", apis.MemberDeclineApi.as_view()),
    path("<int:member_id>/role/", apis.MemberRoleApi.as_view()),
    path("<int:member_id>/", apis.MemberDetailApi.as_view(), name="api-member"),
]

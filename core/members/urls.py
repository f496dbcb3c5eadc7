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
    path("<int:member_id>/", apis.MemberDetailApi.as_view(), name="api-member"),
]

from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("members/<int:member_id>/", views.give_member, name="giving-give-member"),
    path("projects/<int:project_id>/", views.give_project, name="giving-give-project"),
    path("pot/", views.pot_page, name="giving-pot"),
    path("pot/give/", views.give_pot, name="giving-give-pot"),
    path("pot/grant/", views.pot_grant_view, name="giving-grant"),
]

api_urlpatterns: list[URLPattern] = [
    path("gifts/", apis.GiftListApi.as_view(), name="api-gifts"),
    path("allowance/", apis.AllowanceApi.as_view(), name="api-gift-allowance"),
    path("members/<int:member_id>/gifts/", apis.GiftToMemberApi.as_view()),
    path("projects/<int:project_id>/gifts/", apis.GiftToProjectApi.as_view()),
    path("pot/", apis.PotApi.as_view(), name="api-pot"),
    path("pot/gifts/", apis.GiftToPotApi.as_view()),
    path("pot/grants/", apis.PotGrantApi.as_view()),
    path("settings/", apis.GivingSettingsApi.as_view(), name="api-giving-settings"),
]

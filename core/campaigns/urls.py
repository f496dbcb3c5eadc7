from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.campaigns, name="campaigns"),
    path("new/", views.campaign_new, name="campaign-new"),
    path("<int:campaign_id>/", views.campaign_detail, name="campaign-detail"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="campaign-edit"),
    path("<int:campaign_id>/close/", views.campaign_close_view, name="campaign-close"),
    path("<int:campaign_id>/join/", views.campaign_join_view, name="campaign-join"),
    path("<int:campaign_id>/leave/", views.campaign_leave_view, name="campaign-leave"),
    path("<int:campaign_id>/items/", views.campaign_item_add_view, name="campaign-item-add"),
    path(
        "<int:campaign_id>/items/<int:item_id>/remove/",
        views.campaign_item_remove_view,
        name="campaign-item-remove",
    ),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.CampaignListApi.as_view(), name="api-campaigns"),
    path("<int:campaign_id>/", apis.CampaignDetailApi.as_view(), name="api-campaign"),
    path("<int:campaign_id>/join/", apis.CampaignJoinApi.as_view(), name="api-campaign-join"),
    path("<int:campaign_id>/items/", apis.CampaignItemsApi.as_view(), name="api-campaign-items"),
    path(
        "<int:campaign_id>/items/<str:kind>/<int:thing_id>/",
        apis.CampaignItemApi.as_view(),
        name="api-campaign-item",
    ),
]

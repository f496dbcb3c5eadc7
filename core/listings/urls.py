from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.listing_browse, name="listings"),
    path("new/", views.listing_new, name="listing-new"),
    path("mine/", views.my_listings, name="listings-mine"),
    path("settings/", views.listing_settings, name="listing-settings"),
    path("<int:listing_id>/", views.listing_detail, name="listing-detail"),
    path("<int:listing_id>/status/", views.listing_status, name="listing-status"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.ListingListApi.as_view(), name="api-listings"),
    path("partners/", apis.PartnerListingListApi.as_view(), name="api-partner-listings"),
    path("<int:listing_id>/", apis.ListingDetailApi.as_view(), name="api-listing"),
    path("<int:listing_id>/status/", apis.ListingStatusApi.as_view()),
    path("<int:listing_id>/hide/", apis.ListingHideApi.as_view()),
]

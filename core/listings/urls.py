from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.listing_browse, name="listings"),
    path("new/", views.listing_new, name="listing-new"),
    path("mine/", views.my_listings, name="listings-mine"),
    path("settings/", views.listing_settings, name="listing-settings"),
    path("<int:listing_id>/", views.listing_detail, name="listing-detail"),
    path("<int:listing_id>/edit/", views.listing_edit, name="listing-edit"),
    path("<int:listing_id>/status/", views.listing_status, name="listing-status"),
    path("<int:listing_id>/hide/", views.listing_hide_view, name="listing-hide"),
    path("<int:listing_id>/invite/", views.listing_invite_view, name="listing-invite"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.ListingListApi.as_view(), name="api-listings"),
    path("partners/", apis.PartnerListingListApi.as_view(), name="api-partner-listings"),
    path("<int:listing_id>/", apis.ListingDetailApi.as_view(), name="api-listing"),
    path("<int:listing_id>/status/", apis.ListingStatusApi.as_view()),
    path("<int:listing_id>/hide/", apis.ListingHideApi.as_view()),
    path("<int:listing_id>/matches/", apis.ListingMatchListApi.as_view()),
    path("<int:listing_id>/invitations/", apis.ListingInvitationListApi.as_view()),
]

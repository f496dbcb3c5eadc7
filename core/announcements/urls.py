from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("organiser/", views.organiser_list, name="announcements-organiser"),
    path("organiser/new/", views.organiser_new, name="announcement-new"),
    path(
        "organiser/<int:announcement_id>/",
        views.organiser_detail,
        name="announcement-organiser-detail",
    ),
    path(
        "organiser/<int:announcement_id>/cancel/",
        views.organiser_cancel,
        name="announcement-cancel",
    ),
    path("<int:announcement_id>/dismiss/", views.dismiss, name="announcement-dismiss"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.MemberAnnouncementListApi.as_view(), name="api-announcements"),
    path(
        "<int:announcement_id>/dismiss/",
        apis.AnnouncementDismissApi.as_view(),
        name="api-announcement-dismiss",
    ),
    path(
        "organiser/",
        apis.OrganiserAnnouncementListApi.as_view(),
        name="api-announcements-organiser",
    ),
    path(
        "organiser/<int:announcement_id>/",
        apis.OrganiserAnnouncementDetailApi.as_view(),
        name="api-announcement-organiser",
    ),
    path(
        "organiser/<int:announcement_id>/send/",
        apis.OrganiserAnnouncementSendApi.as_view(),
        name="api-announcement-send",
    ),
    path(
        "organiser/<int:announcement_id>/cancel/",
        apis.OrganiserAnnouncementCancelApi.as_view(),
        name="api-announcement-cancel",
    ),
]

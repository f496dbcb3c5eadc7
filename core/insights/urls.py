from django.urls import URLPattern, path

from . import equality_apis, equality_views

urlpatterns: list[URLPattern] = [
    path("equality/", equality_views.equality_report_page, name="equality-report"),
    path(
        "equality/download/",
        equality_views.equality_report_download,
        name="equality-report-download",
    ),
]

# Under the member's profile settings: /members/profile/equality/.
profile_urlpatterns: list[URLPattern] = [
    path("", equality_views.equality_mine, name="equality-mine"),
    path("withdraw/", equality_views.equality_withdraw, name="equality-withdraw"),
]

api_urlpatterns: list[URLPattern] = [
    path("equality/me/", equality_apis.MyEqualityApi.as_view(), name="api-equality-mine"),
    path(
        "equality/report/",
        equality_apis.EqualityReportApi.as_view(),
        name="api-equality-report",
    ),
]

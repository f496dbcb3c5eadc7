from django.urls import URLPattern, path

from .apis import equality as equality_apis
from .apis import map as apis_map
from .views import equality as equality_views
from .views import impact as views_impact
from .views import map as views_map

urlpatterns: list[URLPattern] = [
    path("map/", views_map.network_map, name="insights-map"),
    path("metrics/", views_map.network_metrics, name="insights-metrics"),
    path("impact/", views_impact.impact, name="insights-impact"),
    path("impact/<str:name>.csv", views_impact.impact_csv, name="insights-impact-csv"),
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
    path("map/", apis_map.NetworkMapApi.as_view(), name="api-insights-map"),
    path("metrics/", apis_map.NetworkMetricsApi.as_view(), name="api-insights-metrics"),
    path("equality/me/", equality_apis.MyEqualityApi.as_view(), name="api-equality-mine"),
    path(
        "equality/report/",
        equality_apis.EqualityReportApi.as_view(),
        name="api-equality-report",
    ),
]

from django.urls import URLPattern, path

from . import apis_map, views_impact, views_map

urlpatterns: list[URLPattern] = [
    path("map/", views_map.network_map, name="insights-map"),
    path("metrics/", views_map.network_metrics, name="insights-metrics"),
    path("impact/", views_impact.impact, name="insights-impact"),
    path("impact/<str:name>.csv", views_impact.impact_csv, name="insights-impact-csv"),
]

api_urlpatterns: list[URLPattern] = [
    path("map/", apis_map.NetworkMapApi.as_view(), name="api-insights-map"),
    path("metrics/", apis_map.NetworkMetricsApi.as_view(), name="api-insights-metrics"),
]

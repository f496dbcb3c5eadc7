from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("report/<slug:kind>/<int:target_id>/", views.report_new, name="report-new"),
    path("reports/", views.report_list, name="reports"),
    path("reports/<int:report_id>/", views.report_detail, name="report-detail"),
]

api_urlpatterns: list[URLPattern] = [
    path("reports/", apis.ReportListApi.as_view(), name="api-reports"),
    path("reports/<int:report_id>/", apis.ReportDetailApi.as_view(), name="api-report"),
    path("reports/<int:report_id>/act/", apis.ReportActApi.as_view(), name="api-report-act"),
]

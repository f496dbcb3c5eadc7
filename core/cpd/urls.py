from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.record_page, name="cpd-record"),
    path("scheme/", views.scheme_view, name="cpd-scheme"),
    path("entries/<slug:source>/<int:source_id>/", views.entry_edit, name="cpd-entry"),
    path("record.pdf", views.record_pdf_view, name="cpd-record-pdf"),
    path("record.csv", views.record_csv, name="cpd-record-csv"),
    path("verify/", views.verify_form, name="cpd-verify-form"),
    path("verify/<str:code>/", views.verify, name="cpd-verify"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.RecordApi.as_view(), name="api-cpd"),
    path("scheme/", apis.SchemeApi.as_view(), name="api-cpd-scheme"),
    path(
        "entries/<slug:source>/<int:source_id>/", apis.EntryNoteApi.as_view(), name="api-cpd-entry"
    ),
    path("records/", apis.RecordIssueApi.as_view(), name="api-cpd-records"),
    path(
        "records/<str:code>/verification/",
        apis.VerificationApi.as_view(),
        name="api-cpd-verification",
    ),
]

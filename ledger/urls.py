from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("statement/", views.statement_page, name="ledger-statement"),
    path("statement.csv", views.statement_csv, name="ledger-statement-csv"),
    path("totals/", views.network_totals_page, name="ledger-totals"),
]

api_urlpatterns: list[URLPattern] = [
    path("balance/", apis.BalanceApi.as_view(), name="api-ledger-balance"),
    path("statement/", apis.StatementApi.as_view(), name="api-ledger-statement"),
    path("totals/", apis.NetworkTotalsApi.as_view(), name="api-ledger-totals"),
]

from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.account, name="account"),
    path("data/", views.data_download, name="account-data"),
    path("close/", views.close, name="account-close"),
]

api_urlpatterns: list[URLPattern] = [
    path("data/", apis.MyDataApi.as_view(), name="api-account-data"),
    path("close/", apis.CloseAccountApi.as_view(), name="api-account-close"),
]

from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("start/", views.sso_start, name="sso-start"),
    path("callback/", views.sso_callback, name="sso-callback"),
]

settings_urlpatterns: list[URLPattern] = [
    path("", views.sso_settings_view, name="sso-settings"),
    path("test/", views.sso_test_view, name="sso-test"),
    path("remove/", views.sso_remove_view, name="sso-remove"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.SsoSettingsApi.as_view(), name="api-sso"),
    path("test/", apis.SsoConnectionTestApi.as_view(), name="api-sso-test"),
]

from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("theme/<int:version>.css", views.theme_stylesheet, name="theme-css"),
    path("theme/logo/<int:version>", views.theme_image, {"kind": "logo"}, name="theme-logo"),
    path(
        "theme/favicon/<int:version>",
        views.theme_image,
        {"kind": "favicon"},
        name="theme-favicon",
    ),
    path("manifest.webmanifest", views.web_manifest, name="web-manifest"),
    path("sw.js", views.service_worker, name="service-worker"),
    path("offline/", views.offline_page, name="offline"),
    path("theme/icon/<int:version>/<int:size>.png", views.theme_icon, name="theme-icon"),
    path(
        "theme/icon/<int:version>/maskable-<int:size>.png",
        views.theme_icon,
        {"maskable": True},
        name="theme-icon-maskable",
    ),
    path("settings/branding/", views.branding_page, name="branding"),
    path("settings/branding/preview/", views.branding_preview, name="branding-preview"),
    path("accessibility/", views.accessibility_statement, name="accessibility"),
    path("settings/accessibility/", views.accessibility_settings, name="accessibility-settings"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.AccessibilityStatementApi.as_view(), name="api-accessibility"),
]

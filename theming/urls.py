from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("theme/<int:version>.css", views.theme_stylesheet, name="theme-css"),
    path("theme/logo/<int:version>", views.theme_logo, name="theme-logo"),
    path("settings/branding/", views.branding_page, name="branding"),
]

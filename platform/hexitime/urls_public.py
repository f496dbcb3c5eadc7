"""URLs of the public site, served on the base domain."""

from django.urls import path

from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="public-home"),
    path("start/", tenant_views.start_page, name="start"),
    path("start/<uuid:job_id>/", tenant_views.start_progress, name="start-progress"),
]

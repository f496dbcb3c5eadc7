"""URLs of the public site, served on the base domain."""

from django.urls import path

from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="public-home"),
    path("start/", tenant_views.network_start_view, name="network-start"),
    path(
        "start/<uuid:job_id>/",
        tenant_views.network_start_progress,
        name="network-start-progress",
    ),
]

"""Routing by Host: the base domain is the public site, `<slug>.<base>` a network."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from kernel.db import connection

from .models import Domain, Network

# theming/urls.py: the network's stylesheet, logo, favicon and app icons, and the web app
# manifest every page links (what it names is branding too).
BRANDING_PREFIX = "/theme/"
MANIFEST_PATH = "/manifest.webmanifest"


class NetworkMiddleware(TenantMainMiddleware):
    def get_tenant(self, domain_model: type[Domain], hostname: str) -> Network:
        """The network of the host with its theme, in one query run under whatever
        search_path the connection has (hexitime.tenantdb.public_reads): a request to the
        network the connection last served sets no path at all."""
        with connection.public_reads():
            domain = domain_model.objects.select_related("tenant", "tenant__theme").get(
                domain=hostname
            )
        tenant: Network = domain.tenant
        return tenant

    def process_request(self, request: HttpRequest) -> HttpResponse | None:
        """Route by host; a suspended network answers every request with 503 and
        runs none of its views, so nothing in it can be read or changed. Only its
        branding (stylesheet, logo, favicon, app icons and manifest) is still served, for
        the page saying so."""
        response = super().process_request(request)
        tenant = getattr(request, "tenant", None)
        if (
            response is None
            and isinstance(tenant, Network)
            and tenant.status == Network.Status.SUSPENDED
            and not request.path.startswith(BRANDING_PREFIX)
            and request.path != MANIFEST_PATH
        ):
            return network_suspended(request, tenant)
        return response

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """Leave the connection on the public schema, so nothing that runs after this
        request on a persistent connection (another request, a signal handler, a test)
        inherits this network's search_path."""
        connection.set_schema_to_public()
        return response

    def no_tenant_found(self, request: HttpRequest, hostname: str) -> HttpResponse:
        """An unknown host gets a page saying so (404), not an error."""
        self.setup_url_routing(request, force_public=True)
        return render(
            request,
            "tenants/no_such_network.html",
            {
                "hostname": hostname,
                "base_domain": settings.HEXITIME_BASE_DOMAIN,
                "public_url": public_url(request),
            },
            status=404,
        )


def public_url(request: HttpRequest) -> str:
    port = request.get_port()
    default_port = "443" if request.is_secure() else "80"
    suffix = "" if port == default_port else f":{port}"
    return f"{request.scheme}://{settings.HEXITIME_BASE_DOMAIN}{suffix}/"


def network_suspended(request: HttpRequest, network: Network) -> HttpResponse:
    message = f"{network.name} is suspended. Its organisers have been told why."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "network_suspended"}, status=503)
    return render(
        request,
        "tenants/suspended.html",
        {"network": network, "message": message, "public_url": public_url(request)},
        status=503,
    )

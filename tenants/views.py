from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors import network_list


def home(request: HttpRequest) -> HttpResponse:
    """The public site's front page: what Hexitime is and the networks on it."""
    port = request.get_port()
    suffix = "" if port in {"80", "443"} else f":{port}"
    networks = [
        {
            "name": network.name,
            "url": f"{request.scheme}://{network.domains.all()[0].domain}{suffix}/",
        }
        for network in network_list()
        if network.domains.all()
    ]
    return render(request, "tenants/home.html", {"networks": networks})

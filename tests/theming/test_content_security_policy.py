"""Every page is served with a strict Content-Security-Policy (django-csp), and no template
carries what that policy would refuse: inline script, event-handler attributes, inline
style. The browser tests (tests/browser) run with the policy enforced and fail on any
refusal the browser reports."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for folder in ("core", "ledger", "tenants", "theming", "platform")
    for path in (ROOT / folder).rglob("templates/**/*.html")
)


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def test_pages_in_a_network_and_on_the_public_site_carry_the_policy(
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    public_client: Client,
) -> None:
    client_a.force_login(make_member(network_a))
    responses = {
        "network home": client_a.get("/"),
        "listings": client_a.get("/listings/"),
        "sign in": public_client.get("/console/login/"),
        "public home": public_client.get("/"),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        policy = _directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], name
        assert policy["script-src"] == ["'self'"], name
        assert policy["style-src"] == ["'self'"], name
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_handlers_or_style(path: Path) -> None:
    text = path.read_text()
    inline_scripts = [
        tag
        for tag in re.findall(r"<script\b[^>]*>", text)
        if "src=" not in tag and 'type="application/json"' not in tag
    ]
    assert inline_scripts == []
    assert re.findall(r"\son[a-z]+\s*=", text) == []
    assert re.findall(r"\sstyle\s*=", text) == []
    assert "<style" not in text


def test_the_api_docs_load_swagger_ui_from_here_and_never_inline_script(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    docs = client_a.get("/api/docs/")
    policy = _directives(docs["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # drf-spectacular-sidecar: no CDN
    assert "'unsafe-inline'" in policy["style-src"]  # Swagger's template's fixed <style>
    assert "<script>" not in docs.content.decode()  # the set-up script is a file here
    assert client_a.get("/api/docs/?script").status_code == 200
    home = _directives(client_a.get("/")["Content-Security-Policy"])
    assert home["script-src"] == ["'self'"]

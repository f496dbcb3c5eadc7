"""Every error page uses the base design, says what happened and where to go; the pages
for an unknown host and a suspended network get their stylesheets and logo."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.test import Client, RequestFactory

from core.members.models import Role
from hexitime.error_pages import server_error
from tenants.services.networks import network_suspend
from theming.services import theme_update

from .test_theme import _png, _upload

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpResponse
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse
    from pytest_django import DjangoAssertNumQueries

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _assets(html: str) -> list[str]:
    return re.findall(r'<(?:link|img)[^>]+(?:href|src)="(/[^"]+)"', html)


def _assert_designed(response: HttpResponse | TestResponse, title: str) -> str:
    html = response.content.decode()
    assert 'class="site-header"' in html and "theming/base" in html, html[:300]
    assert f"<h1>{title}" in html
    assert 'href="/"' in html  # somewhere to go
    return html


def _assert_assets_served(client: Client, html: str) -> None:
    assets = _assets(html)
    assert any("base" in a and a.endswith(".css") for a in assets), assets
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_an_unknown_network_page_is_styled(db: None) -> None:
    client = Client(HTTP_HOST=f"nowhere.{settings.HEXITIME_BASE_DOMAIN}")
    response = client.get("/")
    assert response.status_code == 404
    html = _assert_designed(response, "There is no network at")
    _assert_assets_served(client, html)


def test_a_suspended_network_still_shows_its_branding_and_nothing_else(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    organiser = make_member(network_a, role=Role.ORGANISER)
    theme_update(
        network=network_a,
        actor=organiser,
        primary_colour="#005eb8",
        accent_colour="#007f3b",
        logo=_upload("logo.png", _png()),
    )
    network_suspend(network=network_a, actor=None, reason="Unpaid hosting")
    response = client_a.get("/")
    assert response.status_code == 503
    html = _assert_designed(response, f"{network_a.name} is suspended")
    assert any(a.startswith("/theme/logo/") for a in _assets(html))
    assert any(a.startswith("/theme/") and a.endswith(".css") for a in _assets(html))
    _assert_assets_served(client_a, html)
    # Branding is all that is served: pages and the API still answer 503.
    assert client_a.get("/listings/").status_code == 503
    assert client_a.get("/api/v1/ledger/balance/").status_code == 503


def test_a_member_opening_an_organiser_page_is_told_why_and_where_to_go(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    response = client_a.get("/ledger/totals/")
    assert response.status_code == 403
    html = _assert_designed(response, "You can&#x27;t open this page")
    assert "organisers" in html
    _assert_assets_served(client_a, html)
    # The API still answers in JSON.
    api = client_a.get("/api/v1/ledger/totals/")
    assert api.status_code == 403 and "detail" in api.json()
    # An organiser of another network is a stranger here: signed out, so asked to sign in.
    client_a.logout()
    stranger = make_member(network_b, role=Role.ORGANISER)
    client_a.force_login(stranger)
    assert client_a.get("/ledger/totals/").status_code in {302, 403}


def test_a_missing_page_says_what_was_not_found(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    response = client_a.get("/exchanges/999999/")
    assert response.status_code == 404
    html = _assert_designed(response, "Page not found")
    assert "No such exchange" in html
    nowhere = client_a.get("/no/such/page/")
    assert nowhere.status_code == 404
    _assert_designed(nowhere, "Page not found")
    api = client_a.get("/api/v1/no-such-endpoint/")
    assert api.status_code == 404 and api["Content-Type"] == "application/json"


def test_a_server_error_page_is_styled_without_touching_the_request_context(
    network_a: Network,
) -> None:
    request = RequestFactory().get("/", HTTP_HOST=f"network-a.{settings.HEXITIME_BASE_DOMAIN}")
    response = server_error(request)
    assert response.status_code == 500
    _assert_designed(response, "Something went wrong on our side")


def test_a_form_sent_without_its_csrf_token_explains_what_to_do(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    client = Client(
        HTTP_HOST=f"network-a.{settings.HEXITIME_BASE_DOMAIN}", enforce_csrf_checks=True
    )
    response = client.post("/accounts/login/", {"username": "x@example.org", "password": "x"})
    assert response.status_code == 403
    html = _assert_designed(response, "You can&#x27;t open this page")
    assert "reload the page" in html


def test_the_unavailable_page_is_styled_and_reads_nothing(
    db: None, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The 503 a database or broker outage answers with (hexitime.faults) is the base
    design too, with no inline style a strict CSP would refuse, and runs no query."""
    from hexitime.faults import unavailable_response

    request = RequestFactory().get("/", HTTP_HOST=f"network-a.{settings.HEXITIME_BASE_DOMAIN}")
    with django_assert_num_queries(0):
        response = unavailable_response(request)
    assert response.status_code == 503 and response["Retry-After"]
    html = _assert_designed(response, "Hexitime is briefly unavailable")
    assert "<style" not in html and "style=" not in html

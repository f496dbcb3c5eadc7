"""Personal API tokens: made on a page and shown once, stored hashed, used as Bearer
tokens on their own network only, last use shown, revoked at once; calls without
credentials answer 401 with WWW-Authenticate."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import ApiToken
from core.members.services import API_TOKENS_PER_MEMBER, api_token_create

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _make_on_page(client: Client, name: str = "Rota sync") -> tuple[TestResponse, str]:
    page = client.post("/members/tokens/", {"name": name})
    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    shown = re.search(r'id="new-token"[^>]*value="([^"]+)"', page.content.decode())
    assert shown, page.content
    return page, shown.group(1)


def test_a_member_makes_a_token_uses_it_and_revokes_it(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    _, secret = _make_on_page(client_a)
    with tenant_context(network_a):
        token = ApiToken.objects.get(member=member)
        assert secret not in (token.digest, token.hint) and len(secret) > 40  # stored hashed
        assert AuditEvent.objects.filter(verb="api_token.create", actor_id=member.pk).exists()
    assert secret not in client_a.get("/members/tokens/").content.decode()  # shown once

    api = client_a.__class__(network_a)  # no session: the token alone
    balance = api.get("/api/v1/ledger/balance/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert balance.status_code == 200, balance.content
    offer = {"kind": "offer", "title": "Run charts", "description": "Help", "category": "data"}
    listing = api.post(
        "/api/v1/listings/",
        offer,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert listing.status_code == 201  # no CSRF token needed with a bearer token
    page = client_a.get("/members/tokens/").content.decode()
    assert "Rota sync" in page and "Never" not in page  # its last use is shown

    assert client_a.post(f"/members/tokens/{token.pk}/revoke/").status_code == 302
    refused = api.get("/api/v1/ledger/balance/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert refused.status_code == 401
    with tenant_context(network_a):
        assert not ApiToken.objects.exists()
        assert AuditEvent.objects.filter(verb="api_token.revoke").exists()


def test_calls_without_credentials_answer_401_with_www_authenticate(
    network_a: Network, client_a: NetworkClient
) -> None:
    response = client_a.get("/api/v1/ledger/balance/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = client_a.get("/api/v1/ledger/balance/", HTTP_AUTHORIZATION="Bearer hxt_made-up")
    assert bad.status_code == 401 and "not valid" in bad.json()["detail"]
    malformed = client_a.get("/api/v1/ledger/balance/", HTTP_AUTHORIZATION="Bearer a b")
    assert malformed.status_code == 401


def test_a_token_works_only_on_its_own_network_and_only_its_owner_revokes_it(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    owner = make_member(network_a)
    with tenant_context(network_a):
        token, secret = api_token_create(actor=owner, name="Mine")
    assert (
        client_b.get("/api/v1/ledger/balance/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code
        == 401
    )
    other = make_member(network_a)
    client_a.force_login(other)
    assert client_a.post(f"/members/tokens/{token.pk}/revoke/").status_code == 404
    assert "Mine" not in client_a.get("/members/tokens/").content.decode()
    stranger = make_member(network_b)
    client_b.force_login(stranger)
    assert client_b.post(f"/members/tokens/{token.pk}/revoke/").status_code == 404
    with tenant_context(network_a):
        assert ApiToken.objects.filter(pk=token.pk).exists()


def test_a_token_needs_a_name_and_there_is_a_limit(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    empty = client_a.post("/members/tokens/", {"name": "  "})
    assert "Give the token a name" in empty.content.decode() or "required" in empty.content.decode()
    with tenant_context(network_a):
        for n in range(API_TOKENS_PER_MEMBER):
            api_token_create(actor=member, name=f"Token {n}")
    full = client_a.post("/members/tokens/", {"name": "One more"}).content.decode()
    assert "the most allowed" in full
    with tenant_context(network_a):
        assert ApiToken.objects.filter(member=member).count() == API_TOKENS_PER_MEMBER

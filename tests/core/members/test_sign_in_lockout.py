"""Signing in to a network is locked out after five failures for an address from one client
(django-axes, settings/security.py): every spelling of the address shares the count, the
client is the one the trusted proxy saw, and a lock in one network stays there."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import override_settings

from tests.conftest import NetworkClient

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from core.members.models import Member
    from tenants.models import Network

PASSWORD = "kindly-staple-49"
GRACE = "grace.walker@nhs.net"


def full_width(text: str) -> str:
    """`text` in full-width forms (U+FF01...), which NFKC turns back into ASCII."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.fixture
def grace(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email=GRACE, password=PASSWORD)


def _sign_in(client: Client, username: str, password: str, **headers: Any) -> TestResponse:
    return client.post("/accounts/login/", {"username": username, "password": password}, **headers)


def _fail_five_times(client: Client, username: str, **headers: Any) -> None:
    for n in range(5):
        response = _sign_in(client, username, "wrong", **headers)
        assert response.status_code == (429 if n == 4 else 200)


@pytest.mark.parametrize(
    "variant",
    [
        full_width("g") + "race.walker@nhs.net",  # Django's UsernameField: "g" again (NFKC)
        "GRACE.Walker@NHS.net",
        "  grace.walker@nhs.net ",
        full_width(GRACE),
    ],
)
def test_every_spelling_of_a_locked_address_is_locked(
    grace: Member, client_a: NetworkClient, variant: str
) -> None:
    _fail_five_times(client_a, GRACE)
    refused = _sign_in(client_a, variant, PASSWORD)
    assert refused.status_code == 429
    assert b"Too many attempts" in refused.content
    assert "_auth_user_id" not in client_a.session


def test_failures_under_different_spellings_add_up(grace: Member, client_a: NetworkClient) -> None:
    spellings = [
        full_width("g") + "race.walker@nhs.net",
        "Grace.walker@nhs.net",
        "grace." + full_width("w") + "alker@nhs.net",
        "GRACE.WALKER@NHS.NET",
    ]
    for variant in spellings:
        assert _sign_in(client_a, variant, "wrong").status_code == 200
    assert _sign_in(client_a, GRACE, "wrong").status_code == 429
    assert _sign_in(client_a, GRACE, PASSWORD).status_code == 429


def test_signing_in_clears_the_count(grace: Member, client_a: NetworkClient) -> None:
    for _ in range(4):
        _sign_in(client_a, GRACE, "wrong")
    assert _sign_in(client_a, GRACE, PASSWORD).status_code == 302
    client_a.logout()
    for _ in range(4):
        assert _sign_in(client_a, GRACE, "wrong").status_code == 200


@override_settings(HEXITIME_TRUSTED_PROXIES=1)
def test_behind_the_proxy_an_attacker_locks_out_only_themselves(
    grace: Member, network_a: Network
) -> None:
    """The proxy connects from 127.0.0.1 and appends the address it saw; what the client
    wrote into X-Forwarded-For itself is not believed."""
    attacker, victim = NetworkClient(network_a), NetworkClient(network_a)
    _fail_five_times(attacker, GRACE, HTTP_X_FORWARDED_FOR="203.0.113.9")
    # Claiming to be the victim's address does not get the attacker a fresh count.
    spoofed = _sign_in(attacker, GRACE, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    assert spoofed.status_code == 429
    assert _sign_in(victim, GRACE, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 302


def test_a_lock_in_one_network_does_not_reach_another(
    grace: Member,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    make_member(network_b, email=GRACE, password=PASSWORD)
    _fail_five_times(client_a, GRACE)
    assert _sign_in(client_a, GRACE, PASSWORD).status_code == 429
    assert _sign_in(client_b, full_width("g") + "race.walker@nhs.net", PASSWORD).status_code == 302

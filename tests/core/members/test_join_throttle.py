"""Joining is rate-limited per client address (behind the trusted proxy) and per network
(django-ratelimit, core/members/throttles.py); a refused join writes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import override_settings
from django_tenants.utils import tenant_context

from core.members.models import Member

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


def _join(
    client: Client, n: int, address: str, path: str = "/api/v1/members/join/"
) -> TestResponse:
    data = {"email": f"person{n}@nhs.net", "full_name": f"Person {n}", "password": PASSWORD}
    if path.startswith("/api/"):
        return client.post(
            path, data, content_type="application/json", HTTP_X_FORWARDED_FOR=address
        )
    return client.post(path, data, HTTP_X_FORWARDED_FOR=address)


def _members(network: Network) -> list[str]:
    with tenant_context(network):
        return sorted(Member.objects.values_list("email", flat=True))


@pytest.fixture(autouse=True)
def _behind_one_proxy() -> Iterator[None]:
    with override_settings(HEXITIME_TRUSTED_PROXIES=1):
        yield


@override_settings(HEXITIME_JOIN_RATE_PER_CLIENT="3/h")
def test_one_client_may_join_only_so_often(network_a: Network, client_a: NetworkClient) -> None:
    for n in range(3):
        assert _join(client_a, n, "203.0.113.9").status_code == 202
    refused = _join(client_a, 3, "203.0.113.9")
    assert refused.status_code == 429 and refused.json()["code"] == "join_throttled"
    page = _join(client_a, 4, "203.0.113.9", path="/join/")
    assert page.status_code == 429 and b"Too many requests to join" in page.content
    # What the client claims further left in the header does not give it a fresh count.
    assert _join(client_a, 5, "198.51.100.7, 203.0.113.9").status_code == 429
    assert _join(client_a, 6, "198.51.100.7").status_code == 202
    assert _members(network_a) == [f"person{n}@nhs.net" for n in (0, 1, 2, 6)]


@override_settings(HEXITIME_JOIN_RATE_PER_NETWORK="4/h")
def test_a_network_takes_only_so_many_joins_and_another_is_not_affected(
    network_a: Network, network_b: Network, client_a: NetworkClient, client_b: NetworkClient
) -> None:
    for n in range(4):
        assert _join(client_a, n, f"203.0.113.{n + 1}").status_code == 202
    assert _join(client_a, 4, "203.0.113.50").status_code == 429
    assert len(_members(network_a)) == 4
    assert _join(client_b, 4, "203.0.113.50").status_code == 202
    assert _members(network_b) == ["person4@nhs.net"]


@override_settings(HEXITIME_TRUSTED_PROXIES=0, HEXITIME_JOIN_RATE_PER_CLIENT="2/h")
def test_a_client_without_an_address_is_counted_too(
    network_a: Network, client_a: NetworkClient
) -> None:
    """Found by schemathesis: with no REMOTE_ADDR (a server on a Unix socket with no proxy
    in front says none) joining failed with a server error. Such clients share one count."""
    for n in range(2):
        joined = client_a.post(
            "/api/v1/members/join/",
            {"email": f"p{n}@nhs.net", "full_name": "P", "password": PASSWORD},
            content_type="application/json",
            REMOTE_ADDR="",
        )
        assert joined.status_code == 202
    refused = client_a.post(
        "/api/v1/members/join/",
        {"email": "p3@nhs.net", "full_name": "P", "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR="",
    )
    assert refused.status_code == 429

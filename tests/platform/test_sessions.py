"""Sessions (kernel.sessions): read from Redis, written through to the database, and read
from the database alone while Redis cannot be reached."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from kernel.sessions import KEPT_SECONDS, SessionStore
from tests.conftest import NetworkClient

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network

UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: connection refused
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}
SIGN_IN = {"username": "sam@nhs.example", "password": "correct-horse-battery"}


@pytest.fixture
def member(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email=SIGN_IN["username"])


def _session_reads(client: NetworkClient, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "django_session" in q["sql"]]


def test_a_signed_in_page_reads_its_session_from_redis_for_a_few_minutes(
    client_a: NetworkClient, network_a: Network, member: Member
) -> None:
    assert client_a.post("/accounts/login/", SIGN_IN).status_code == 302
    assert _session_reads(client_a, "/") == []
    key = client_a.cookies["sessionid"].value
    with tenant_context(network_a):
        stored = cache.make_key(SessionStore.cache_key_prefix + key)
    ttl = cache._cache.get_client(stored).ttl(stored)  # type: ignore[attr-defined]
    assert 0 < ttl <= KEPT_SECONDS

    with tenant_context(network_a):  # as when the kept copy expires: read again, kept again
        cache.delete(SessionStore.cache_key_prefix + key)
    assert len(_session_reads(client_a, "/")) == 1
    assert _session_reads(client_a, "/") == []


def test_signing_out_ends_the_session_in_redis_too(
    client_a: NetworkClient, network_a: Network, member: Member
) -> None:
    assert client_a.post("/accounts/login/", SIGN_IN).status_code == 302
    assert client_a.get("/").status_code == 200
    cookies = client_a.cookies
    assert client_a.post("/accounts/logout/").status_code in (200, 302)
    again = NetworkClient(network_a)
    again.cookies = cookies  # the signed-out cookie, replayed
    assert again.get("/ledger/statement/").status_code == 302


def test_signing_in_and_out_works_while_redis_is_down(
    client_a: NetworkClient, network_a: Network, member: Member
) -> None:
    with override_settings(CACHES=UNREACHABLE):
        assert client_a.post("/accounts/login/", SIGN_IN).status_code == 302
        assert len(_session_reads(client_a, "/")) == 1  # from the database, every page
        assert client_a.get("/ledger/statement/").status_code == 200
        assert client_a.post("/accounts/logout/").status_code in (200, 302)
        assert client_a.get("/ledger/statement/").status_code == 302
    # Signed in again once Redis is back, the session is kept there as before.
    assert client_a.post("/accounts/login/", SIGN_IN).status_code == 302
    assert client_a.get("/").status_code == 200
    assert _session_reads(client_a, "/") == []


def test_a_session_kept_in_redis_for_a_means_nothing_on_b(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_b: Network,
    member: Member,
    make_member: Callable[..., Member],
) -> None:
    """The same cookie on B's host looks under B's schema, in Redis and in the database."""
    make_member(network_b, email=SIGN_IN["username"])
    assert client_a.post("/accounts/login/", SIGN_IN).status_code == 302
    assert client_a.get("/").status_code == 200  # kept in Redis under A's schema
    client_b.cookies = client_a.cookies
    assert client_b.get("/ledger/statement/").status_code == 302

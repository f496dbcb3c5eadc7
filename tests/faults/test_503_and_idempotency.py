"""Database faults mid-request answer 503 with Retry-After, and API clients retry safely
with an Idempotency-Key.

The faults are real: the request's PostgreSQL backend is terminated with
pg_terminate_backend while the request waits on a lock another session holds (before the
move, or after it committed), or between two requests. Transactional: the request runs in
a thread with its own connection.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from django.db import connections
from django.test import Client
from django_tenants.utils import tenant_context
from psycopg import sql

from core.exchanges.models import Exchange, Proposal
from core.idempotency.models import IdempotentResponse
from core.listings.services import listing_create
from kernel.db import connection
from ledger.selectors import member_balance
from ledger.services import gift_grant
from tests.conftest import NetworkClient
from tests.core.exchanges.conftest import to_recorded
from tests.faults.test_provisioning_faults import _test_database_url

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse
    from pytest_django import Settings

    from core.members.models import Member
    from tenants.models import Network

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAITING = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s"


@pytest.fixture
def blocker() -> Iterator[psycopg.Connection[Any]]:
    """Another session, whose open transaction holds the lock a request will wait on."""
    session = psycopg.connect(_test_database_url())
    yield session
    session.close()


def _lock(session: psycopg.Connection[Any], network: Network, statement: str) -> None:
    session.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(network.schema_name)))
    session.execute(statement)


def _in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run a request in a thread (its own database connection), closed when it ends."""
    result: list[Any] = []

    def run() -> None:
        try:
            result.append(call())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def _terminate_when_waiting(query_like: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(WAITING, [query_like])
            row = cursor.fetchone()
            if row:
                cursor.execute("SELECT pg_terminate_backend(%s)", [row[0]])
                return
        time.sleep(0.05)
    raise AssertionError(f"no request waited on {query_like}")


def _fault(
    session: psycopg.Connection[Any],
    network: Network,
    lock: str,
    waits_on: str,
    call: Callable[[], TestResponse],
) -> TestResponse:
    _lock(session, network, lock)
    thread, result = _in_thread(call)
    _terminate_when_waiting(waits_on)
    session.rollback()
    thread.join(timeout=60)
    (response,) = result
    return response


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> tuple[Member, Member]:
    """Alice and Bob in network A, each with the welcome gift."""
    alice = make_member(network_a, full_name="Alice Giver")
    bob = make_member(network_a, full_name="Bob Receiver")
    with tenant_context(network_a):
        for member in (alice, bob):
            gift_grant(member=member)
    return alice, bob


@pytest.fixture
def recorded(network_a: Network, people: tuple[Member, Member]) -> tuple[Exchange, Member, Member]:
    """Alice recorded 90 minutes of help to Bob; Bob is to confirm."""
    alice, bob = people
    with tenant_context(network_a):
        offer = listing_create(
            actor=alice,
            kind="offer",
            title="QI coaching",
            description="PDSA cycles",
            category="coaching",
        )
        exchange = to_recorded(offer, alice, bob)
    return exchange, alice, bob


def _balances(network: Network, *members: Member) -> list[int]:
    with tenant_context(network):
        return [member_balance(member=member) for member in members]


def _confirm_api(
    network: Network, member: Member, exchange: Exchange, key: str
) -> Callable[[], TestResponse]:
    def call() -> TestResponse:
        client = NetworkClient(network, raise_request_exception=False)
        client.force_login(member)
        return client.post(
            f"/api/v1/exchanges/{exchange.pk}/confirm/", headers={"Idempotency-Key": key}
        )

    return call


def test_a_terminated_backend_before_the_move_answers_503_and_the_retry_makes_the_move(
    network_a: Network, recorded: tuple[Exchange, Member, Member], blocker: psycopg.Connection[Any]
) -> None:
    exchange, alice, bob = recorded
    confirm = _confirm_api(network_a, bob, exchange, "confirm-1")
    table = Exchange._meta.db_table
    response = _fault(
        blocker,
        network_a,
        f"SELECT 1 FROM {table} WHERE id = {exchange.pk} FOR UPDATE",  # noqa: S608
        f'%"{table}"%',
        confirm,
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert response["Content-Type"] == "application/json"
    assert "may or may not have been saved" in response.json()["detail"]
    assert _balances(network_a, alice, bob) == [120, 120]  # nothing moved
    with tenant_context(network_a):
        assert not IdempotentResponse.objects.exists()  # a fault keeps nothing

    retried = confirm()
    assert retried.status_code == 200
    assert retried.json()["state"] == "completed"
    assert _balances(network_a, alice, bob) == [210, 30]
    replayed = confirm()
    assert replayed.status_code == 200
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == retried.content
    assert _balances(network_a, alice, bob) == [210, 30]


def test_a_terminated_backend_after_the_move_committed_answers_503_and_nothing_moves_twice(
    network_a: Network, recorded: tuple[Exchange, Member, Member], blocker: psycopg.Connection[Any]
) -> None:
    """The confirmation commits; reading the exchange back for the answer then waits on a
    lock and its backend is terminated."""
    exchange, alice, bob = recorded
    confirm = _confirm_api(network_a, bob, exchange, "confirm-2")
    table = Proposal._meta.db_table
    response = _fault(
        blocker,
        network_a,
        f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE",
        f'%"{table}"%',
        confirm,
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert _balances(network_a, alice, bob) == [210, 30]  # the move took effect
    retried = confirm()  # the client learns the outcome: the exchange is completed
    assert retried.status_code == 409, retried.content
    assert retried.json()["state"] == "completed"
    assert _balances(network_a, alice, bob) == [210, 30]  # and it moved once
    assert confirm().content == retried.content


def test_a_page_whose_backend_is_terminated_gets_a_plain_503_even_under_debug(
    network_a: Network,
    recorded: tuple[Exchange, Member, Member],
    blocker: psycopg.Connection[Any],
    settings: Settings,
) -> None:
    settings.DEBUG = True
    exchange, _, bob = recorded

    def confirm() -> TestResponse:
        client = NetworkClient(network_a, raise_request_exception=False)
        client.force_login(bob)
        return client.post(f"/exchanges/{exchange.pk}/confirm/")

    table = Exchange._meta.db_table
    response = _fault(
        blocker,
        network_a,
        f"SELECT 1 FROM {table} WHERE id = {exchange.pk} FOR UPDATE",  # noqa: S608
        f'%"{table}"%',
        confirm,
    )

    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    page = response.content.decode()
    assert "Hexitime is briefly unavailable" in page
    assert "Traceback" not in page
    assert "OperationalError" not in page


def test_the_database_gone_before_routing_answers_503(network_a: Network) -> None:
    """The tenant lookup itself fails: a connection whose backend was terminated, with
    health checks off (a pooler keeps the client's side of it open)."""

    def request() -> TestResponse:
        connection.settings_dict["CONN_HEALTH_CHECKS"] = False
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with psycopg.connect(_test_database_url(), autocommit=True) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", [pid])
        client = Client(HTTP_HOST=f"{network_a.slug}.localhost", raise_request_exception=False)
        return client.get("/accounts/login/")

    thread, result = _in_thread(request)
    thread.join(timeout=60)
    (response,) = result
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert (
        Client(HTTP_HOST=f"{network_a.slug}.localhost").get("/accounts/login/").status_code == 200
    )


def _listing_api(network: Network, member: Member) -> NetworkClient:
    client = NetworkClient(network)
    client.force_login(member)
    return client


def _post_listing(client: NetworkClient, key: str | None, title: str) -> TestResponse:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"kind": "offer", "title": title, "description": "PDSA", "category": "coaching"}
    return client.post("/api/v1/listings/", body, content_type="application/json", headers=headers)


def test_a_repeat_replays_and_a_different_body_with_the_same_key_is_refused(
    network_a: Network, people: tuple[Member, Member]
) -> None:
    alice = people[0]
    client = _listing_api(network_a, alice)
    first = _post_listing(client, "listing-1", "Shadowing")
    assert first.status_code == 201, first.content
    again = _post_listing(client, "listing-1", "Shadowing")
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    other = _post_listing(client, "listing-1", "Something else")
    assert other.status_code == 422
    assert other.json()["field"] == "Idempotency-Key"
    assert _post_listing(client, None, "Shadowing").status_code == 201  # no key: no replay
    with tenant_context(network_a):
        assert alice.listings.filter(title="Shadowing").count() == 2
    assert _post_listing(client, "x" * 256, "Shadowing").status_code == 400


def test_a_key_is_the_members_own_in_their_own_network(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member],
    make_member: Callable[..., Member],
) -> None:
    alice, bob = people[0], people[1]
    _post_listing(_listing_api(network_a, alice), "shared-key", "Alice's offer")
    # Another member of the same network, and a member of another network, with the same
    # key and body: their own requests run; nobody sees Alice's answer.
    by_bob = _post_listing(_listing_api(network_a, bob), "shared-key", "Alice's offer")
    assert by_bob.status_code == 201
    assert "Idempotent-Replayed" not in by_bob
    ben = make_member(network_b, full_name="Ben Brown")
    by_ben = _post_listing(_listing_api(network_b, ben), "shared-key", "Alice's offer")
    assert by_ben.status_code == 201
    assert "Idempotent-Replayed" not in by_ben
    with tenant_context(network_b):
        assert IdempotentResponse.objects.get().member_id == ben.pk
    with tenant_context(network_a):
        assert IdempotentResponse.objects.count() == 2


def test_a_repeat_while_the_first_is_running_is_told_to_wait(
    network_a: Network, people: tuple[Member, Member], blocker: psycopg.Connection[Any]
) -> None:
    alice = people[0]
    client = _listing_api(network_a, alice)
    # The lock a running request with this key holds.
    blocker.execute(
        "SELECT pg_advisory_lock(%s, hashtext(%s))",
        [0x69646D, f"{network_a.schema_name}:{alice.pk}:busy-key"],
    )
    busy = _post_listing(client, "busy-key", "Shadowing")
    assert busy.status_code == 409
    assert busy["Retry-After"] == "1"
    blocker.execute("SELECT pg_advisory_unlock_all()")
    assert _post_listing(client, "busy-key", "Shadowing").status_code == 201

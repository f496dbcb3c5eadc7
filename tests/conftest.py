"""Fixtures every test can use: two networks, members in them, clients for their hosts.

Networks are provisioned per test through the real provisioning service. In an ordinary
`db` test a network claims one of the spare schemas built once per session, as production
provisioning does, and the test's rollback returns the spare to the pool untouched: a new
network costs a rename, not a replay of some 1,300 statements. A transactional test's network
would take its spare for good, so those tests empty the pool and replay the template; the
fixture drops their schemas afterwards, so a `--reuse-db` run never meets leftovers.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.test import Client
from django_tenants.utils import tenant_context
from psycopg import sql

from core.members.models import Member
from kernel.db import connection
from tenants.models import Network, Plan, SpareSchema
from tenants.services.networks import network_create, platform_bootstrap
from tenants.services.schemas import schema_spares_fill, schema_template_current

if TYPE_CHECKING:
    from django.test.utils import CaptureQueriesContext
    from pytest_django import DjangoDbBlocker

# More networks than an ordinary test makes; one that makes more replays for the rest.
SPARE_POOL = 6


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    """After pytest-django migrates the test database, capture the schema template and build
    the spare pool once."""
    # Never let a fixture write to a real database.
    assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        platform_bootstrap()
        schema_template_current()
        schema_spares_fill(count=SPARE_POOL)
        _template_sequences()


@functools.cache
def _template_sequences() -> tuple[list[str], list[int], list[bool]]:
    """Every sequence of a new network schema, where the template's replay leaves it (its
    data migrations insert rows): names, values, whether the value was taken."""
    spare = SpareSchema.objects.order_by("pk").first()
    assert spare is not None, "the spare pool is built before any network"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sequencename, COALESCE(last_value, start_value), last_value IS NOT NULL"
            " FROM pg_sequences WHERE schemaname = %s",
            [spare.name],
        )
        names, values, called = zip(*cursor.fetchall(), strict=True)
    return list(names), list(values), list(called)


def _spare_pool_drop() -> None:
    """Drop the spares for good (committed): from here on networks are built by replay."""
    for spare in SpareSchema.objects.all():
        with connection.cursor() as cursor:
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
            cursor.execute(drop.format(sql.Identifier(spare.name)))
        spare.delete()


def _is_transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )


@pytest.fixture
def make_network(request: pytest.FixtureRequest, db: None) -> Iterator[Callable[..., Network]]:
    """Provision networks on demand: `make_network("slug", "Name")`.

    `db` is transactional for tests marked `django_db(transaction=True)` or using
    `transactional_db` (pytest-django decides per test)."""
    made: list[Network] = []
    transactional = _is_transactional(request)
    if transactional:
        # pytest-django runs these after every `db` test, so the pool has served its turn;
        # tests/tenants/test_provisioning.py counts the spares it fills itself.
        _spare_pool_drop()

    def make(slug: str, name: str | None = None) -> Network:
        platform_bootstrap()
        network = network_create(slug=slug, name=name or slug.replace("-", " ").title())
        # A rollback leaves sequences where the last test took them: put them back where
        # the template leaves them, so ids collide across networks as they would.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(format('%%I.%%I', %s, name), value, called)"
                " FROM unnest(%s::text[], %s::bigint[], %s::bool[]) AS s(name, value, called)",
                [network.schema_name, *_template_sequences()],
            )
        made.append(network)
        return network

    yield make
    if transactional:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            for network in made:
                cursor.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(network.schema_name)
                    )
                )
        Network.objects.filter(pk__in=[n.pk for n in made]).delete()


@pytest.fixture
def network_a(make_network: Callable[..., Network]) -> Network:
    return make_network("network-a", "Network A")


@pytest.fixture
def network_b(make_network: Callable[..., Network]) -> Network:
    return make_network("network-b", "Network B")


@pytest.fixture
def make_member() -> Callable[..., Member]:
    """Create a member inside a network: `make_member(network_a, email=...)`."""
    counter = iter(range(1, 10_000))

    def make(network: Network, **fields: Any) -> Member:
        n = next(counter)
        fields.setdefault("email", f"member{n}@{network.slug}.example")
        fields.setdefault("full_name", f"Member {n}")
        password = fields.pop("password", "correct-horse-battery")
        with tenant_context(network):
            return Member.objects.create_user(password=password, **fields)

    return make


def upgrade(*networks: Network) -> None:
    """Put networks on the paid organisation plan, as a confirmed Stripe checkout would
    (tests/tenants/test_billing.py covers the webhook itself)."""
    for network in networks:
        network.plan = Plan.ORGANISATION
        network.save(update_fields=["plan"])


def at_once(network: Network, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread and database connection inside `network`, released
    together by a barrier: each one's result, or the exception it raised, in call order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            connection.set_tenant(network)
            start.wait(timeout=10)
            results[index] = calls[index]()
        except Exception as error:  # reported to the test
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def streamed(response: HttpResponseBase) -> bytes:
    """The whole body of a streamed response (a download), as a browser would read it."""
    assert isinstance(response, StreamingHttpResponse), type(response)
    return b"".join(cast("Iterator[bytes]", response.streaming_content))


def reads(captured: CaptureQueriesContext) -> list[str]:
    """The statements a `CaptureQueriesContext` saw, without the `SET`s (search_path)."""
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("SET ")]


def selected_columns(sql: str, alias: str) -> list[str]:
    """The columns a statement's first SELECT list reads of the table it calls `alias`, in
    the order it reads them: to hold SQL read into instances by `from_db` to its model."""
    select_list = sql.split("SELECT", 1)[1].split(" FROM ", 1)[0]
    return re.findall(rf"\b{alias}\.(\w+)", select_list)


def host_of(network: Network) -> str:
    return f"{network.slug}.{settings.HEXITIME_BASE_DOMAIN}"


class NetworkClient(Client):
    """A test client for one network's host. Sessions live in the network's schema, so
    `login()` and `force_login()` run inside it."""

    def __init__(self, network: Network, **defaults: Any) -> None:
        super().__init__(HTTP_HOST=host_of(network), **defaults)
        self.network = network

    def force_login(self, user: Member, backend: str | None = None) -> None:
        with tenant_context(self.network):
            super().force_login(user, backend)

    def login(self, **credentials: Any) -> bool:
        # django-axes checks every sign-in against the client it comes from.
        request = HttpRequest()
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        with tenant_context(self.network):
            return super().login(request=request, **credentials)

    def logout(self) -> None:
        with tenant_context(self.network):
            super().logout()


@pytest.fixture
def client_a(network_a: Network) -> NetworkClient:
    return NetworkClient(network_a)


@pytest.fixture
def client_b(network_b: Network) -> NetworkClient:
    return NetworkClient(network_b)


@pytest.fixture
def public_client(db: None) -> Client:
    platform_bootstrap()
    return Client(HTTP_HOST=settings.HEXITIME_BASE_DOMAIN)


@pytest.fixture
def worker() -> Iterator[None]:
    """A real Celery worker (in a thread of this process) consuming from the real Redis.
    Use it in transactional tests: the worker sees only committed data."""
    from celery.contrib.testing.worker import start_worker

    from hexitime.celery import app

    with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture(autouse=True)
def _back_to_public() -> Iterator[None]:
    """Every test starts and ends on the public schema, whatever the last request set, and
    with an empty cache (login throttles and other counters outlive a test otherwise)."""
    connection.set_schema_to_public()
    cache.clear()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def demo_like(network_a: Network, network_b: Network) -> dict[Network, list[Member]]:
    """Networks A and B filled as the demonstration ones are (members, listings, exchanges
    at every stage, projects, equality answers, notifications): their people, organiser
    first. For tests that walk the whole API over realistic data."""
    from hexitime.demo import demo_network_seed

    people = {}
    with tenant_context(network_b), connection.cursor() as cursor:
        # B's ids start far above A's, so an id of one network's is no id at all in the
        # other's: a walk can tell an answer about B's object from one about A's.
        cursor.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = %s", [network_b.schema_name]
        )
        for (name,) in cursor.fetchall():
            cursor.execute(
                sql.SQL("ALTER SEQUENCE {} RESTART WITH 100001").format(
                    sql.Identifier(network_b.schema_name, name)
                )
            )
    for seed, network in enumerate((network_a, network_b)):
        with tenant_context(network):
            people[network] = demo_network_seed(
                seed=seed,
                members=8,
                email_domain=f"{network.slug}.example",
                organiser_email=f"organiser@{network.slug}.example",
            )
    return people

"""Network metrics: organisers only, cached per network, computed by the Celery task."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache
from django_tenants.utils import tenant_context

from core.insights.models import MapSnapshot
from core.insights.selectors.map import DateRange
from core.insights.selectors.metrics import metrics_key, network_metrics_cached
from core.insights.services.map import network_map_store
from core.insights.services.metrics import network_metrics_store
from core.insights.tasks import network_metrics_refresh
from core.members.models import Role
from tests.conftest import at_once

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import DjangoCaptureOnCommitCallbacks

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

API = "/api/v1/insights/metrics/"
PAGE = "/insights/metrics/"


def test_members_without_the_organiser_role_cannot_see_metrics_or_brokers(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    with tenant_context(network_a):
        network_metrics_store(network_a.schema_name)
    for who in ("ada", "cy"):  # Ada and Cy are the brokers; plain members all the same
        client_a.force_login(cast[who])
        assert client_a.get(API).status_code == 403
        assert client_a.get(PAGE).status_code == 403
        assert client_a.post(PAGE).status_code == 403
    client_a.logout()
    assert client_a.get(API).status_code == 401


def test_organiser_sees_computing_then_the_metrics(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    client_a.force_login(cast["olive"])
    response = client_a.get(API)
    assert (response.status_code, response.json()) == (202, {"status": "computing"})
    page = client_a.get(PAGE).content.decode()
    assert "being computed" in page and 'http-equiv="refresh"' in page
    with tenant_context(network_a):
        network_metrics_store(network_a.schema_name)
    metrics = client_a.get(API).json()
    assert metrics["members_active"] == 4
    assert metrics["exchanges"] == 3 and metrics["minutes_exchanged"] == 180
    # Ada->Ben crosses professions only, Ada->Cy organisations only, Cy->Dee both.
    assert metrics["crossing"]["profession"] == {"crossing": 2, "of": 3, "rate": 0.6667}
    assert metrics["crossing"]["organisation"] == {"crossing": 2, "of": 3, "rate": 0.6667}
    assert metrics["components"] == {"count": 1, "largest": 4}
    # Ben - Ada - Cy - Dee: Ada and Cy each carry 2 of the 3 pairs without them.
    assert metrics["brokers"] == [
        {"member_id": cast["ada"].pk, "betweenness": 0.6667},
        {"member_id": cast["cy"].pk, "betweenness": 0.6667},
    ]
    page = client_a.get(PAGE).content.decode()
    assert "Knowledge brokers" in page and "Ada Nurse" in page and "Cy Nurse" in page
    assert "67%" in page


def test_opted_out_broker_is_not_named(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    with tenant_context(network_a):
        cast["cy"].show_on_map = False
        cast["cy"].save(update_fields=["show_on_map"])
        network_metrics_store(network_a.schema_name)
    client_a.force_login(cast["olive"])
    page = client_a.get(PAGE).content.decode()
    assert "Ada Nurse" in page and "Cy Nurse" not in page
    assert "A member (not shown on the map)" in page


def test_metrics_are_cached_per_network(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    cast: dict[str, Member],
    make_member: Callable[..., Member],
) -> None:
    with tenant_context(network_a):
        network_metrics_store(network_a.schema_name)
    boss_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(boss_b)
    assert client_b.get(API).status_code == 202  # not A's metrics
    with tenant_context(network_b):
        assert network_metrics_cached(network_b.schema_name) is None
        assert cache.get(metrics_key(network_a.schema_name)) is None  # another schema's key
        network_metrics_store(network_b.schema_name)
    assert client_b.get(API).json()["members_active"] == 0
    client_a.force_login(cast["olive"])
    assert client_a.get(API).json()["members_active"] == 4


def test_storing_refuses_a_schema_that_is_not_current(
    network_a: Network, network_b: Network
) -> None:
    with tenant_context(network_b), pytest.raises(RuntimeError):
        network_metrics_store(network_a.schema_name)


@pytest.mark.django_db(transaction=True)
def test_the_worker_computes_and_caches(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member], worker: None
) -> None:
    schema = network_a.schema_name
    assert network_metrics_refresh.apply_async([schema], ignore_result=False).get(timeout=30) == 4
    with tenant_context(network_a):
        assert (network_metrics_cached(schema) or {}).get("members_active") == 4
        cache.delete(metrics_key(schema))
    # The page queues the computation itself when nothing is cached.
    client_a.force_login(cast["olive"])
    assert "being computed" in client_a.get(PAGE).content.decode()
    deadline = time.monotonic() + 30
    while client_a.get(API).status_code == 202 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert client_a.get(API).json()["exchanges"] == 3
    assert "Knowledge brokers" in client_a.get(PAGE).content.decode()


def test_organiser_can_ask_for_a_recomputation_once_queued_per_request(
    client_a: NetworkClient,
    network_a: Network,
    cast: dict[str, Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    client_a.force_login(cast["olive"])
    with django_capture_on_commit_callbacks() as queued:
        client_a.get(PAGE)  # nothing cached: queues one
        client_a.get(PAGE)  # already queued: does not queue another
    assert len(queued) == 1
    with django_capture_on_commit_callbacks() as queued:
        response = client_a.post(PAGE)  # asked for: queued whatever is pending
    assert response.status_code == 302 and response["Location"] == PAGE
    assert len(queued) == 1


@pytest.mark.django_db(transaction=True)
def test_two_map_refreshes_at_once_both_store_it_once(
    network_a: Network, network_b: Network
) -> None:
    """Two metrics tasks storing one network's map at the same moment take turns (they
    collided on the map's unique key and one failed), and B's maps are not touched."""
    store = partial(network_map_store, network_a.schema_name, dates=DateRange(), edges=[])
    for _ in range(5):
        stored = at_once(network_a, [store, store])
        assert [type(result) for result in stored] == [int, int], stored
    with tenant_context(network_a):
        assert MapSnapshot.objects.count() == stored[0] > 0
    with tenant_context(network_b):
        assert not MapSnapshot.objects.exists()

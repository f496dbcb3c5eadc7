"""The one way a public service runs (kernel.db.durable_service), against the real
PostgreSQL with two real connections: a deadlock is retried whole and both callers
succeed, a lock not granted in time is a plain refusal, and a service never joins a
caller's transaction."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.db import connections, transaction

from kernel.db import Busy, durable_service
from tenants.models import Network

if TYPE_CHECKING:
    from pytest_django import Settings

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target: Callable[[], Any], results: dict[str, Any], name: str) -> threading.Thread:
    def run() -> None:
        try:
            results[name] = target()
        except BaseException as error:  # reported to the test
            results[name] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_deadlock_is_retried_and_both_services_complete(
    network_a: Network, network_b: Network
) -> None:
    both_locked_one = threading.Barrier(2, timeout=30)
    attempts: Counter[str] = Counter()

    @durable_service
    def rename_both(first: int, second: int, *, name: str) -> str:
        attempts[name] += 1
        Network.objects.select_for_update().get(pk=first)
        if attempts[name] == 1:
            both_locked_one.wait()  # each holds one row and now asks for the other's
        Network.objects.select_for_update().get(pk=second)
        Network.objects.filter(pk__in=[first, second]).update(name=name)
        return name

    results: dict[str, Any] = {}
    threads = [
        _in_thread(lambda: rename_both(network_a.pk, network_b.pk, name="ab"), results, "ab"),
        _in_thread(lambda: rename_both(network_b.pk, network_a.pk, name="ba"), results, "ba"),
    ]
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"ab": "ab", "ba": "ba"}
    # PostgreSQL chose one of them as the deadlock's victim; it ran again, whole.
    assert sorted(attempts.values()) == [1, 2]
    names = set(Network.objects.filter(pk__in=[network_a.pk, network_b.pk]).values_list("name"))
    assert len(names) == 1  # the retry renamed both rows: nothing half done


def test_a_lock_not_granted_in_time_is_a_clear_refusal(
    network_a: Network, settings: Settings
) -> None:
    settings.HEXITIME_LOCK_TIMEOUT_MS = 200
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Network.objects.select_for_update().get(pk=network_a.pk)
            holding.set()
            release.wait(timeout=30)

    @durable_service
    def rename(*, name: str) -> None:
        Network.objects.select_for_update().get(pk=network_a.pk)
        Network.objects.filter(pk=network_a.pk).update(name=name)

    results: dict[str, Any] = {}
    holder = _in_thread(hold, results, "holder")
    assert holding.wait(timeout=30)
    try:
        with pytest.raises(Busy, match="try again"):
            rename(name="renamed while locked")
    finally:
        release.set()
        holder.join(timeout=30)
    network_a.refresh_from_db()
    assert network_a.name != "renamed while locked"
    rename(name="renamed")  # once the lock is free, the same call works
    network_a.refresh_from_db()
    assert network_a.name == "renamed"


def test_a_service_never_runs_inside_a_callers_transaction(network_a: Network) -> None:
    @durable_service
    def rename() -> None:
        Network.objects.filter(pk=network_a.pk).update(name="inside")

    # A retry must run the whole of the caller's work again, which only the caller can.
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        rename()
    network_a.refresh_from_db()
    assert network_a.name != "inside"

"""Celery tasks run in the schema they were queued from: direct, retried, in chords, and
from beat. A real worker consumes from the real Redis broker."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from celery import chord
from django.core.cache import cache
from django_tenants.utils import tenant_context
from tenant_schemas_celery.scheduler import TenantAwareScheduler

from core.members.models import Member
from hexitime.celery import app
from kernel.db import connection

if TYPE_CHECKING:
    from collections.abc import Callable

    from celery import Task

    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


@app.task(bind=True, max_retries=3, ignore_result=False)
def where_am_i(self: Task, retries_wanted: int = 0) -> dict[str, object]:
    if self.request.retries < retries_wanted:
        raise self.retry(countdown=0)
    return {
        "schema": connection.schema_name,
        "retries": self.request.retries,
        "members": list(Member.objects.values_list("email", flat=True)),
    }


@app.task(ignore_result=False)
def gather(results: list[dict[str, object]]) -> dict[str, object]:
    return {"schema": connection.schema_name, "parts": [r["schema"] for r in results]}


@app.task
def mark_beat_visit() -> None:
    cache.set("beat-visited", connection.schema_name, timeout=60)


def test_a_task_runs_in_the_schema_it_was_queued_from(
    worker: None, network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    make_member(network_a, email="alice@nhs.net")
    make_member(network_b, email="bob@nhs.net")
    with tenant_context(network_a):
        in_a = where_am_i.delay()
    with tenant_context(network_b):
        in_b = where_am_i.delay()
    assert in_a.get(timeout=20) == {
        "schema": network_a.schema_name,
        "retries": 0,
        "members": ["alice@nhs.net"],
    }
    assert in_b.get(timeout=20)["members"] == ["bob@nhs.net"]


def test_retries_stay_in_the_original_schema(worker: None, network_a: Network) -> None:
    with tenant_context(network_a):
        result = where_am_i.delay(retries_wanted=2)
    assert result.get(timeout=20) == {"schema": network_a.schema_name, "retries": 2, "members": []}


def test_chord_parts_and_callback_run_in_the_original_schema(
    worker: None, network_b: Network
) -> None:
    with tenant_context(network_b):
        result = chord([where_am_i.s(), where_am_i.s()])(gather.s())
    assert result.get(timeout=20) == {
        "schema": network_b.schema_name,
        "parts": [network_b.schema_name, network_b.schema_name],
    }


def test_beat_sends_each_entry_into_every_network(
    worker: None, network_a: Network, network_b: Network
) -> None:
    scheduler = TenantAwareScheduler(app=app, lazy=True)
    # The same shape as CELERY_BEAT_SCHEDULE entries in settings.
    scheduler.merge_inplace({"visit": {"task": mark_beat_visit.name, "schedule": 60.0}})
    scheduler.apply_entry(scheduler.schedule["visit@__all_tenants_only__"])
    for network in (network_a, network_b):
        with tenant_context(network):
            deadline = time.monotonic() + 20
            while cache.get("beat-visited") is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert cache.get("beat-visited") == network.schema_name
            cache.delete("beat-visited")

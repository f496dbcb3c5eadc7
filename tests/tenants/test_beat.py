"""Celery beat sends periodic work into every active network and none into a suspended one
(the scheduler settings name, tenants.beat.NetworkBeatScheduler)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from hexitime.celery import app
from kernel.db import connection
from tenants.services.networks import network_resume, network_suspend

if TYPE_CHECKING:
    from pathlib import Path

    from celery.beat import Scheduler

    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


@app.task
def beat_visit() -> None:
    cache.set("beat-visit", connection.schema_name, timeout=60)


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[Scheduler]:
    beat = import_string(settings.CELERY_BEAT_SCHEDULER)(
        app=app, schedule_filename=str(tmp_path / "beat-schedule")
    )
    # The same shape as a CELERY_BEAT_SCHEDULE entry in settings.
    beat.merge_inplace({"visit": {"task": beat_visit.name, "schedule": 60.0}})
    yield beat
    beat.close()


@pytest.fixture
def sent_to() -> Iterator[list[str]]:
    """The schema of every beat_visit message published while the test runs."""
    schemas: list[str] = []

    def record(sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
        if sender == beat_visit.name and headers is not None:
            schemas.append(str(headers.get("_schema_name")))

    before_task_publish.connect(record, weak=False)
    yield schemas
    before_task_publish.disconnect(record)


def _visited(network: Network, *, wait: float = 20) -> str | None:
    with tenant_context(network):
        deadline = time.monotonic() + wait
        while cache.get("beat-visit") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return cache.get("beat-visit")


def test_beat_skips_a_suspended_network_until_it_is_resumed(
    worker: None, scheduler: Scheduler, sent_to: list[str], network_a: Network, network_b: Network
) -> None:
    entry = scheduler.schedule["visit@__all_tenants_only__"]
    network_suspend(network=network_b, actor=None, reason="Unpaid hosting")

    scheduler.apply_entry(entry)

    assert sent_to == [network_a.schema_name]
    assert _visited(network_a) == network_a.schema_name
    assert _visited(network_b, wait=0) is None

    network_resume(network=network_b, actor=None)
    sent_to.clear()
    scheduler.apply_entry(entry)
    assert sorted(sent_to) == sorted([network_a.schema_name, network_b.schema_name])
    assert _visited(network_b) == network_b.schema_name


def test_an_entry_naming_a_suspended_network_is_not_sent(
    scheduler: Scheduler, sent_to: list[str], network_a: Network, network_b: Network
) -> None:
    scheduler.merge_inplace(
        {
            "named": {
                "task": beat_visit.name,
                "schedule": 60.0,
                "tenant_schemas": [network_a.schema_name, network_b.schema_name],
            }
        }
    )
    network_suspend(network=network_a, actor=None, reason="Unpaid hosting")
    for schema in (network_a.schema_name, network_b.schema_name):
        scheduler.apply_entry(scheduler.schedule[f"named@{schema}"])
    assert sent_to == [network_b.schema_name]
    app.control.purge()  # no worker in this test: leave no message for a later one


def test_beat_sends_again_after_the_server_dropped_its_database_connection(
    scheduler: Scheduler, sent_to: list[str], network_a: Network
) -> None:
    entry = scheduler.schedule["visit@__all_tenants_only__"]
    scheduler.apply_entry(entry)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        beat_backend = cursor.fetchone()[0]
    # Another session ends beat's, as a PostgreSQL restart does; beat is not told.
    settings_dict = connection.settings_dict
    with psycopg.connect(
        dbname=settings_dict["NAME"],
        host=settings_dict["HOST"] or None,
        port=settings_dict["PORT"] or None,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [beat_backend])

    scheduler.apply_entry(entry)

    assert sent_to == [network_a.schema_name, network_a.schema_name]
    app.control.purge()  # no worker in this test: leave no message for a later one

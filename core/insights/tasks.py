from __future__ import annotations

from django.core.cache import cache
from django.db import transaction
from django_tenants.utils import schema_context

from hexitime.celery import app
from kernel.db import connection

from .equality import equality_snapshot_take
from .map_store import network_map_store, range_from_key, range_key
from .metrics_store import PENDING_SECONDS, network_metrics_store, pending_key
from .network_map import DateRange
from .sources import network_edges


@app.task(max_retries=3, default_retry_delay=10)
def network_metrics_refresh(schema_name: str) -> int:
    """Recompute and cache a network's metrics (idempotent: the latest run wins). The
    exchange service queues it on commit when an exchange completes. Returns the number
    of active members counted."""
    with schema_context(schema_name):
        return int(network_metrics_store(schema_name)["members_active"])


@app.task(max_retries=3, default_retry_delay=10)
def network_map_refresh(schema_name: str, key: str) -> int:
    """Compute and store a network's map for one date range (`map_store.range_key`), as
    the map page and API queue it when nothing is stored for the range. Idempotent. The
    all-time map goes with the metrics (one reading of the exchanges for both). Returns
    the number of parts stored."""
    with schema_context(schema_name):
        dates = range_from_key(key)
        if range_key(dates) == range_key(DateRange()):
            network_metrics_store(schema_name)
            return 1
        return network_map_store(schema_name, dates=dates, edges=network_edges(dates=dates))


@app.task
def network_insights_nightly() -> int:
    """Beat runs this in every network's schema each night: the metrics and the all-time
    map, whatever happened during the day (renamed members, changed professions)."""
    return int(network_metrics_store(connection.schema_name)["members_active"])


@app.task
def equality_snapshot() -> str:
    """Beat runs this in every network's schema on the 1st of each month: the month's
    equality figures, from which every report of the month is published. Idempotent."""
    return str(equality_snapshot_take().month)


def network_metrics_request(schema_name: str, *, force: bool = False) -> bool:
    """Queue a refresh after the current transaction commits, unless one is already queued
    (`force` queues one anyway). Returns whether one was queued."""
    if not cache.add(pending_key(schema_name), 1, PENDING_SECONDS) and not force:
        return False
    transaction.on_commit(lambda: network_metrics_refresh.delay(schema_name), robust=True)
    return True


def network_metrics_request_after_commit(*schema_names: str) -> None:
    """For a change that alters networks' maps and metrics (an exchange completed, hours
    confirmed): ask for their refresh once the current transaction has committed. Asking
    earlier would mark a refresh pending for a change that may yet roll back."""

    def request() -> None:
        for schema_name in schema_names:
            network_metrics_request(schema_name)

    transaction.on_commit(request, robust=True)

"""Celery tasks of the network map, metrics and equality report: each runs in the schema it
was queued from (beat runs the nightly ones in every network's) and calls a service.
Services queue them by name, on commit; task names are this module's path, so it stays
`core.insights.tasks`."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from kernel.db import connection

from .selectors.edges import network_edges
from .selectors.map import DateRange, range_from_key, range_key
from .services.equality import equality_snapshot_take
from .services.map import network_map_store
from .services.metrics import network_metrics_store


@shared_task(max_retries=3, default_retry_delay=10)
def network_metrics_refresh(schema_name: str) -> int:
    """Recompute and cache a network's metrics (idempotent: the latest run wins). Two
    services queue it on commit: the exchange service when an exchange completes, and the
    project service when a volunteer's hours are confirmed; so do the metrics page and API
    when nothing is cached or an organiser asks. Returns the number of active members
    counted."""
    with schema_context(schema_name):
        return int(network_metrics_store(schema_name)["members_active"])


@shared_task(max_retries=3, default_retry_delay=10)
def network_map_refresh(schema_name: str, key: str) -> int:
    """Compute and store a network's map for one date range (`selectors.map.range_key`), as
    the map page and API queue it when nothing is stored for the range. Idempotent. The
    all-time map goes with the metrics (one reading of the exchanges for both). Returns
    the number of parts stored."""
    with schema_context(schema_name):
        dates = range_from_key(key)
        if range_key(dates) == range_key(DateRange()):
            network_metrics_store(schema_name)
            return 1
        return network_map_store(schema_name, dates=dates, edges=network_edges(dates=dates))


@shared_task
def network_insights_nightly() -> int:
    """Beat runs this in every network's schema each night: the metrics and the all-time
    map, whatever happened during the day (renamed members, changed professions)."""
    return int(network_metrics_store(connection.schema_name)["members_active"])


@shared_task
def equality_snapshot() -> str:
    """Beat runs this in every network's schema on the 1st of each month: the month's
    equality figures, from which every report of the month is published. Idempotent."""
    return str(equality_snapshot_take().month)

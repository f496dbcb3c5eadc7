"""Network metrics cached per network (Django's cache, Redis), computed by a Celery task.

The key names the schema as well as going through the tenant key function, so one
network's metrics can never be read under another's. Entries do not expire: they are
replaced when an exchange completes (the exchange service enqueues
`tasks.network_metrics_refresh`) or when an organiser asks.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils import timezone

from kernel.db import connection

from .graph import Edge
from .map_store import network_map_store
from .metrics import metrics_compute
from .network_map import DateRange
from .sources import network_edges, people

PENDING_SECONDS = 120  # how long a queued refresh stops another being queued


def metrics_key(schema_name: str) -> str:
    return f"insights:network-metrics:{schema_name}"


def pending_key(schema_name: str) -> str:
    return f"insights:network-metrics-pending:{schema_name}"


def network_metrics_compute(edges: list[Edge] | None = None) -> dict[str, Any]:
    """Compute the current network's metrics from the database (three queries, one if the
    all-time `edges` are given)."""
    if edges is None:
        edges = network_edges(dates=DateRange())
    metrics = metrics_compute(edges, people())
    metrics["computed_at"] = timezone.now().isoformat()
    return metrics


def network_metrics_store(schema_name: str) -> dict[str, Any]:
    """Compute and cache the metrics of the network whose schema is current, and store its
    all-time map from the same edges (map_store)."""
    if connection.schema_name != schema_name:
        raise RuntimeError(f"metrics for {schema_name} asked in {connection.schema_name}")
    # Cleared before reading, so an exchange completing while this runs queues a fresh run.
    cache.delete(pending_key(schema_name))
    edges = network_edges(dates=DateRange())
    metrics = network_metrics_compute(edges)
    cache.set(metrics_key(schema_name), metrics, timeout=None)
    network_map_store(schema_name, dates=DateRange(), edges=edges)
    return metrics


def network_metrics_cached(schema_name: str) -> dict[str, Any] | None:
    cached: dict[str, Any] | None = cache.get(metrics_key(schema_name))
    return cached

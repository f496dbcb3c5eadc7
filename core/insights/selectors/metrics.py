"""Network metrics: computed from the database, and read back as cached (Django's cache,
Redis) by `services.metrics.network_metrics_store`, which a Celery task runs.

The key names the schema as well as going through the tenant key function, so one
network's metrics can never be read under another's. Entries do not expire: they are
replaced when an exchange completes or project hours are confirmed (the exchange and
project services enqueue `tasks.network_metrics_refresh`), nightly, or when an organiser
asks.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.utils import timezone

from core.insights.graph import Edge
from core.insights.metrics import metrics_compute

from .edges import network_edges, people
from .map import DateRange


def metrics_key(schema_name: str) -> str:
    return f"insights:network-metrics:{schema_name}"


def network_metrics_compute(edges: list[Edge] | None = None) -> dict[str, Any]:
    """Compute the current network's metrics from the database (three queries, one if the
    all-time `edges` are given)."""
    if edges is None:
        edges = network_edges(dates=DateRange())
    metrics = metrics_compute(edges, people())
    metrics["computed_at"] = timezone.now().isoformat()
    return metrics


def network_metrics_cached(schema_name: str) -> dict[str, Any] | None:
    cached: dict[str, Any] | None = cache.get(metrics_key(schema_name))
    return cached

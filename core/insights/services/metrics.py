"""Network metrics: computed and cached (read back by `selectors.metrics`), and their
refresh queued after a change commits.

Tasks call these; these enqueue tasks by name, on commit (`celery.current_app.send_task`),
so nothing here imports the tasks module.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import transaction

from core.insights.selectors.edges import network_edges
from core.insights.selectors.map import DateRange
from core.insights.selectors.metrics import metrics_key, network_metrics_compute
from kernel.db import connection

from .map import network_map_store

PENDING_SECONDS = 120  # how long a queued refresh stops another being queued


def pending_key(schema_name: str) -> str:
    return f"insights:network-metrics-pending:{schema_name}"


def network_metrics_store(schema_name: str) -> dict[str, Any]:
    """Compute and cache the metrics of the network whose schema is current, and store its
    all-time map from the same edges (services.map)."""
    if connection.schema_name != schema_name:
        raise RuntimeError(f"metrics for {schema_name} asked in {connection.schema_name}")
    # Cleared before reading, so an exchange completing while this runs queues a fresh run.
    cache.delete(pending_key(schema_name))
    edges = network_edges(dates=DateRange())
    metrics = network_metrics_compute(edges)
    cache.set(metrics_key(schema_name), metrics, timeout=None)
    network_map_store(schema_name, dates=DateRange(), edges=edges)
    return metrics


def network_metrics_request(schema_name: str, *, force: bool = False) -> bool:
    """Queue a refresh after the current transaction commits, unless one is already queued
    (`force` queues one anyway). Returns whether one was queued."""
    if not cache.add(pending_key(schema_name), 1, PENDING_SECONDS) and not force:
        return False
    transaction.on_commit(
        lambda: current_app.send_task(
            "core.insights.tasks.network_metrics_refresh", args=[schema_name]
        ),
        robust=True,
    )
    return True


def network_metrics_request_after_commit(*schema_names: str) -> None:
    """For a change that alters networks' maps and metrics (an exchange completed, hours
    confirmed): ask for their refresh once the current transaction has committed. Asking
    earlier would mark a refresh pending for a change that may yet roll back."""

    def request() -> None:
        for schema_name in schema_names:
            network_metrics_request(schema_name)

    transaction.on_commit(request, robust=True)

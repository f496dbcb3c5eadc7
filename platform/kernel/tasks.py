"""The one way a service queues a Celery task: by the task's name, once the current
transaction has committed.

By name, so a service never imports a tasks module: tasks call services, and a service in
a lower layer (exchanges) can ask for work of a higher one (insights) without importing
it. On commit, so nothing is queued for a change that rolls back, and the worker sees the
committed rows. The Celery app (tenant-schemas-celery) stamps the current schema into the
message, as it does for `delay()`.
"""

from __future__ import annotations

from typing import Any

from celery import current_app
from django.db import transaction


def task_send_on_commit(name: str, **kwargs: Any) -> None:
    """Queue the task `name` (its dotted name, `core.listings.tasks.listing_digest`) with
    these keyword arguments after the current transaction commits (at once outside one).
    A broker that cannot be reached is logged, not raised: the change itself is done."""
    transaction.on_commit(lambda: current_app.send_task(name, kwargs=kwargs), robust=True)

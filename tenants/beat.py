"""Celery beat for networks: tenant-schemas-celery's scheduler sends each entry once per
network schema; this one leaves suspended networks out, so a suspended network's periodic
work (digests, reminders, auto-confirmations) waits until it is resumed.

Beat is a long-lived process that Django's request cycle never reaches, so nothing else
closes its stale database connection: each entry it sends first does what Django does at
every request (drop a connection that is too old or has failed; the health check then
replaces one the server closed, as after a PostgreSQL restart). A database that is down at
that moment costs that run of the entry, logged; beat itself stays up for the next one.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from celery.beat import ScheduleEntry
from django.db import DatabaseError, close_old_connections, connection
from django.db.models import QuerySet
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from .models import Network

if TYPE_CHECKING:
    from kombu.messaging import Producer

logger = logging.getLogger(__name__)


class NetworkBeatScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls) -> QuerySet[Network]:
        """The networks each due entry is sent to: every active one, read afresh each time
        an entry is due (so a suspension takes effect at the next send)."""
        return Network.objects.exclude(status=Network.Status.SUSPENDED)

    def apply_entry(self, entry: ScheduleEntry, producer: Producer | None = None) -> None:
        close_old_connections()
        try:
            super().apply_entry(entry, producer=producer)
        except DatabaseError:
            # The health check can miss a connection the server ended while it was idle:
            # drop it and try once more on a new one.
            connection.close()
            try:
                super().apply_entry(entry, producer=producer)
            except DatabaseError:
                logger.exception(
                    "Beat could not read the networks; %s waits for its next run", entry
                )

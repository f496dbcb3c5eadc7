"""Celery beat for networks: tenant-schemas-celery's scheduler sends each entry once per
network schema; this one leaves suspended networks out, so a suspended network's periodic
work (digests, reminders, auto-confirmations) waits until it is resumed."""

from __future__ import annotations

from django.db.models import QuerySet
from tenant_schemas_celery.scheduler import TenantAwarePersistentScheduler

from .models import Network


class NetworkBeatScheduler(TenantAwarePersistentScheduler):
    @classmethod
    def get_queryset(cls) -> QuerySet[Network]:
        """The networks each due entry is sent to: every active one, read afresh each time
        an entry is due (so a suspension takes effect at the next send)."""
        return Network.objects.exclude(status=Network.Status.SUSPENDED)

from __future__ import annotations

from django.db.models import QuerySet

from .models import AuditEvent


def audit_event_list(*, target_type: str | None = None) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if target_type:
        events = events.filter(target_type=target_type)
    return events

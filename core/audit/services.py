from __future__ import annotations

from typing import Any

from django.db import models

from .models import AuditEvent


def audit_record(
    *,
    actor: models.Model | None,
    verb: str,
    target: models.Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    """Record an action in the current schema's audit log.

    Call it inside the transaction that makes the change, so the change and its record
    commit or roll back together. `actor` None means the system (a scheduled task).
    """
    return AuditEvent.objects.create(
        actor_id=actor.pk if actor is not None else None,
        actor_label=str(actor) if actor is not None else "system",
        verb=verb,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before,
        after=after,
        reason=reason,
    )

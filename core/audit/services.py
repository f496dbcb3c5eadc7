from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models

from kernel.db import actor_label_erasure

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


def audit_actor_labels_erase(*, actor_id: int, labels: Sequence[str], label: str) -> int:
    """Rename a closed account in the current schema's audit events it acted in: what
    was done, to what and when stays; only `actor_label` (matched by id and by what it was
    called, as staff ids share the column) becomes `label`. Inside the caller's
    transaction; returns how many were renamed."""
    with actor_label_erasure():
        return AuditEvent.objects.filter(actor_id=actor_id, actor_label__in=labels).update(
            actor_label=label
        )

from __future__ import annotations

from celery import shared_task

from .services import sessions_auto_confirm, sessions_remind


@shared_task
def groupsessions_due() -> dict[str, int]:
    """Beat runs this in every network's schema: confirm attendance left unanswered (and
    settle those sessions), and remind members of sessions in the next 24 hours."""
    return {"settled": sessions_auto_confirm(), "reminded": sessions_remind()}

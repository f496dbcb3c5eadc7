from __future__ import annotations

from celery import shared_task

from .services import exchanges_auto_confirm, exchanges_remind_meetings


@shared_task
def exchanges_due() -> dict[str, int]:
    """Beat runs this in every network's schema: confirm hours left unanswered, and
    remind members of meetings in the next 24 hours."""
    return {"confirmed": exchanges_auto_confirm(), "reminded": exchanges_remind_meetings()}

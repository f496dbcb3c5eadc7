"""Work beat does in each network: auto-confirming unanswered hours and reminding
members of meetings."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from core.notifications.models import Kind
from hexitime.db import durable_service
from hexitime.errors import ApplicationError

from ..models import Exchange, State
from .common import Side, locked, meeting_time_text, notify
from .lifecycle import complete, to_dispute
from .rules import exchange_settings


def exchanges_auto_confirm(*, now: datetime.datetime | None = None) -> int:
    """Confirm hours left unanswered for the network's set number of days. One transaction
    per exchange; one that cannot be paid (the receiver lacks the credit) goes to an
    organiser as a dispute instead. Returns how many completed."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=exchange_settings().auto_confirm_days)
    due = Exchange.objects.filter(state=State.RECORDED, recorded_at__lte=cutoff).values_list(
        "pk", flat=True
    )
    return sum(_auto_confirm(exchange_id) for exchange_id in list(due))


@durable_service
def _auto_confirm(exchange_id: int) -> bool:
    """Confirm one exchange's hours, or send it to an organiser; whether it completed."""
    exchange = locked(exchange_id)
    if exchange.state != State.RECORDED:
        return False  # confirmed or disputed meanwhile
    try:
        with transaction.atomic():
            complete(exchange, actor=None)
    except ApplicationError as refusal:
        exchange.refresh_from_db()
        to_dispute(exchange, f"Automatic confirmation failed: {refusal.message}")
        return False
    return True


def exchanges_remind_meetings(*, now: datetime.datetime | None = None) -> int:
    """Remind both sides of a meeting in the next 24 hours, once per arranged time."""
    now = now or timezone.now()
    due = Exchange.objects.filter(
        state=State.SCHEDULED,
        reminded_at__isnull=True,
        meeting_at__gt=now,
        meeting_at__lte=now + datetime.timedelta(hours=24),
    ).values_list("pk", flat=True)
    return sum(_remind(exchange_id, now=now) for exchange_id in list(due))


@durable_service
def _remind(exchange_id: int, *, now: datetime.datetime) -> bool:
    """Remind both sides of one meeting, unless done already; whether it reminded."""
    exchange = locked(exchange_id)
    if exchange.reminded_at is not None or exchange.meeting_at is None:
        return False
    when = meeting_time_text(exchange.meeting_at)
    for side in (Side.GIVER, Side.RECEIVER):
        notify(
            exchange,
            side,
            kind=Kind.MEETING_REMINDER,
            event=f"reminder:{exchange.meeting_at.timestamp()}",
            title=f"Reminder: “{exchange.listing.title}” on {when}",
            body=exchange.meeting_place,
        )
    exchange.reminded_at = now
    exchange.save(update_fields=["reminded_at"])
    return True

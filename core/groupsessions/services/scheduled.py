"""Work beat does in each network: confirming attendance left unanswered (as exchanges
auto-confirm hours, after the network's same number of days), and reminding the giver
and everyone booked the day before a session."""

from __future__ import annotations

import datetime

from django.utils import timezone

from core.exchanges.services import exchange_settings
from core.groupsessions.models import BookingState, GroupSession, SessionState
from core.notifications.models import Kind
from kernel.db import durable_service

from .common import locked, notify, when_text
from .settlement import settle_if_ready


def sessions_auto_confirm(*, now: datetime.datetime | None = None) -> int:
    """Confirm the attendance of sessions held the network's auto-confirm days ago that
    attendees left unanswered, and settle them. One transaction per session. Returns how
    many settled."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=exchange_settings().auto_confirm_days)
    due = GroupSession.objects.filter(state=SessionState.HELD, held_at__lte=cutoff)
    return sum(
        _auto_confirm(session_id, now=now) for session_id in list(due.values_list("pk", flat=True))
    )


@durable_service
def _auto_confirm(session_id: int, *, now: datetime.datetime) -> bool:
    session = locked(session_id)
    if session.state != SessionState.HELD:
        return False
    session.bookings.filter(state=BookingState.ATTENDED).update(
        state=BookingState.CONFIRMED, confirmed_at=now, updated_at=now
    )
    return settle_if_ready(session, actor=None)


def sessions_remind(*, now: datetime.datetime | None = None) -> int:
    """Remind the giver and everyone booked of a session in the next 24 hours, once per
    time it is arranged for (a change of time reminds again)."""
    now = now or timezone.now()
    due = GroupSession.objects.filter(
        state=SessionState.OPEN,
        reminded_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(hours=24),
    ).values_list("pk", flat=True)
    return sum(_remind(session_id, now=now) for session_id in list(due))


@durable_service
def _remind(session_id: int, *, now: datetime.datetime) -> bool:
    session = locked(session_id)
    if session.reminded_at is not None or session.state != SessionState.OPEN:
        return False
    booked = session.bookings.filter(state=BookingState.BOOKED).select_related("member")
    title = f"Reminder: “{session.title}” on {when_text(session.starts_at)}"
    for member in [session.giver, *(b.member for b in booked)]:
        notify(
            session,
            member,
            kind=Kind.MEETING_REMINDER,
            event=f"reminder:{session.starts_at.timestamp()}",
            title=title,
            body=session.place or session.video_link,
        )
    session.reminded_at = now
    session.save(update_fields=["reminded_at"])
    return True

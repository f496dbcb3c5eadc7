"""Reading group sessions: what is coming up, a member's own, one session with its
bookings, the record of confirmed sessions (for the CPD learning record), and the items of
a member's private calendar feed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import CharField, Count, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from core.exchanges.models import State as ExchangeState
from core.exchanges.selectors import member_exchanges, partner_exchanges
from core.exchanges.services.calendar import exchange_event
from core.members.models import Member
from core.members.selectors import blocked_member_ids_query, blocked_with_exists
from kernel import ics
from kernel.cache import cache_kept
from kernel.errors import NotFound
from tenants.selectors import network_current, network_url

from .models import Booking, BookingState, CalendarFeed, GroupSession, SessionState
from .services import LATEST_KEY, LATEST_SECONDS, secret_hash, session_event


def sessions_with_counts(*, member: Member | None = None) -> QuerySet[GroupSession]:
    """Sessions with `booked_count` and `waiting_count`, and with a `member` the state of
    their own booking as `member_booking` (one query however many)."""
    own = Booking.objects.filter(session=OuterRef("pk"), member=member).values("state")[:1]
    return (
        GroupSession.objects.select_related("giver")
        .annotate(
            booked_count=Count("bookings", filter=Q(bookings__state=BookingState.BOOKED)),
            waiting_count=Count("bookings", filter=Q(bookings__state=BookingState.WAITING)),
            member_booking=Subquery(own)
            if member is not None
            else Value(None, output_field=CharField()),
        )
        .order_by("starts_at", "created_at")  # Meta.ordering is dropped by GROUP BY
    )


def sessions_upcoming(*, member: Member | None = None) -> QuerySet[GroupSession]:
    """Sessions open for booking that have not started, soonest first; with a `member`,
    none given by someone they blocked or who blocked them."""
    upcoming = sessions_with_counts(member=member).filter(
        state=SessionState.OPEN, starts_at__gt=timezone.now()
    )
    if member is not None:
        upcoming = upcoming.exclude(giver_id__in=blocked_member_ids_query(member))
    return upcoming


def member_sessions(*, member: Member) -> QuerySet[GroupSession]:
    """Sessions the member gives or has a booking on (not one they cancelled), soonest
    first."""
    theirs = Booking.objects.filter(member=member).exclude(state=BookingState.CANCELLED)
    return sessions_with_counts(member=member).filter(
        Q(giver=member) | Q(pk__in=theirs.values("session_id"))
    )


def member_sessions_next(*, member: Member, limit: int = 5) -> list[GroupSession]:
    """The member's next sessions (giving, or booked on), soonest first: no query while
    the network has no open session ahead (when the latest starts is kept), else one."""
    now = timezone.now()
    latest = cache_kept(
        LATEST_KEY,
        LATEST_SECONDS,
        lambda: GroupSession.objects.filter(state=SessionState.OPEN).aggregate(
            latest=Max("starts_at")
        )["latest"],
    )
    if latest is None or latest < now:
        return []
    booked = Booking.objects.filter(member=member, state=BookingState.BOOKED)
    return list(
        GroupSession.objects.filter(state=SessionState.OPEN, starts_at__gte=now)
        .filter(Q(giver=member) | Q(pk__in=booked.values("session_id")))
        .order_by("starts_at")[:limit]
    )


def access_session(session_id: int, *, member: Member) -> GroupSession:
    """A session of this network (the schema is the network's, so another network's
    session is simply not there). Every member may see its sessions, except one given by
    someone they blocked or who blocked them, unless they booked it before: to them it is
    not there, as for any session that is not (core.members.models.Block)."""
    session = (
        sessions_with_counts(member=member)
        .annotate(giver_blocked=blocked_with_exists(member, "giver"))
        .filter(pk=session_id)
        .first()
    )
    if session is None or (session.giver_blocked and booking_state(session) is None):
        raise NotFound("No such session.")
    return session


def booking_state(session: GroupSession) -> str | None:
    """The viewer's booking state that `sessions_with_counts` annotated (None: none)."""
    return getattr(session, "member_booking", None)


def booking_of(session: GroupSession, member: Member) -> Booking | None:
    return Booking.objects.filter(session=session, member=member).first()


def session_bookings(session: GroupSession) -> list[Booking]:
    return list(session.bookings.select_related("member").order_by("queued_at", "id"))


def waiting_position(booking: Booking) -> int:
    return (
        Booking.objects.filter(
            session_id=booking.session_id,
            state=BookingState.WAITING,
            queued_at__lt=booking.queued_at,
        ).count()
        + 1
    )


# A booking whose member was there, as its settlement counts it (paying, or let off).
ATTENDED = (BookingState.CONFIRMED, BookingState.WAIVED)


def session_taken_part(*, member: Member, session_id: int) -> GroupSession | None:
    """The settled session `session_id` if the member gave it or attended it, else None:
    what the member may reflect on or tell a story about."""
    attended = Q(bookings__member=member, bookings__state__in=ATTENDED)
    return (
        GroupSession.objects.filter(
            Q(giver=member) | attended, pk=session_id, state=SessionState.SETTLED
        )
        .distinct()
        .first()
    )


@dataclass(frozen=True)
class SessionRecord:
    """One confirmed session in a member's record: what CPD reads."""

    session_id: int
    date: datetime.date
    minutes: int
    format: str
    title: str
    category: str
    role: str  # "gave" or "received"


def member_session_record(
    *, member: Member, start: datetime.date, end: datetime.date
) -> list[SessionRecord]:
    """The settled sessions the member gave (with at least one attendance confirmed) or
    attended (confirmed, or settled by an organiser as attended), held between `start` and
    `end` inclusive (the network's dates), oldest first. Two queries."""
    settled = GroupSession.objects.filter(
        state=SessionState.SETTLED, starts_at__date__gte=start, starts_at__date__lte=end
    )
    given = settled.filter(giver=member, bookings__state=BookingState.CONFIRMED).distinct()
    attended = settled.filter(bookings__member=member, bookings__state__in=ATTENDED)
    records = [_record(s, "gave") for s in given] + [_record(s, "received") for s in attended]
    return sorted(records, key=lambda r: (r.date, r.session_id, r.role))


def _record(session: GroupSession, role: str) -> SessionRecord:
    return SessionRecord(
        session_id=session.pk,
        date=timezone.localdate(session.starts_at),
        minutes=session.minutes,
        format=session.format,
        title=session.title,
        category=session.category,
        role=role,
    )


def calendar_feed_member(secret: str) -> Member | None:
    """The active member whose feed `secret` opens in this network, or None."""
    feed = (
        CalendarFeed.objects.select_related("member")
        .filter(secret_hash=secret_hash(secret), member__is_active=True)
        .first()
    )
    if feed is None:
        return None
    CalendarFeed.objects.filter(pk=feed.pk).update(last_read_at=timezone.now())
    return feed.member


def calendar_feed_of(member: Member) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(member=member).first()


# A feed holds what lies ahead and the last month.
FEED_PAST = datetime.timedelta(days=31)


def calendar_events(*, member: Member) -> list[ics.Event]:
    """The member's agreed meetings (those hosted by partner networks too) and the sessions
    they give or are booked on, from a month ago on, as calendar events (the same UIDs and
    SEQUENCEs as their invites)."""
    since = timezone.now() - FEED_PAST
    here = network_current()
    site = network_url(here, "")  # one query for the network's address, not one per event
    exchanges = member_exchanges(member=member).filter(
        state=ExchangeState.SCHEDULED, meeting_at__gte=since
    )
    events = [
        exchange_event(
            e, member=member, schema_name=here.schema_name, url=f"{site}/exchanges/{e.pk}/"
        )
        for e in exchanges
    ]
    events += [
        exchange_event(
            p.exchange,
            member=member,
            schema_name=p.network.schema_name,
            url=f"{site}/exchanges/partner/{p.network.slug}/{p.exchange.pk}/",
        )
        for p in partner_exchanges(member=member, network=here)
        if p.exchange.state == ExchangeState.SCHEDULED
        and p.exchange.meeting_at is not None
        and p.exchange.meeting_at >= since
    ]
    sessions = (
        GroupSession.objects.select_related("giver")
        .filter(starts_at__gte=since)
        .exclude(state=SessionState.CANCELLED)
        .filter(
            Q(giver=member)
            | Q(
                bookings__member=member,
                bookings__state__in=[
                    BookingState.BOOKED,
                    BookingState.ATTENDED,
                    BookingState.CONFIRMED,
                    BookingState.DISPUTED,
                    BookingState.WAIVED,
                ],
            )
        )
        .distinct()
    )
    events += [session_event(s, member=member, url=f"{site}/sessions/{s.pk}/") for s in sessions]
    return sorted(events, key=lambda e: e.starts_at)

"""The moves of a group session: post, change, cancel; book, leave, the waiting list;
mark attendance; confirm or dispute it; an organiser settles a dispute.

Every move locks the session row first (`SELECT ... FOR UPDATE`), so bookings for the
last place queue there: the first takes it, the second joins the waiting list. A place
freed (a cancelled booking, more capacity) goes to the first on the list at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit.services import audit_record
from core.groupsessions.models import (
    MAX_CAPACITY,
    MAX_MINUTES,
    MINUTES_STEP,
    Booking,
    BookingState,
    Format,
    GroupSession,
    SessionState,
)
from core.listings.models import Listing
from core.members.models import Member
from core.members.selectors import members_blocked_between
from core.members.services import member_require_joined
from core.notifications.models import Kind
from kernel import ics
from kernel.db import durable_service
from kernel.errors import NotFound, PermissionDenied
from ledger.services import minutes_as_text

from .common import (
    SessionRefused,
    clean_text,
    locked,
    notify,
    own_booking,
    require_booking,
    require_move,
    sessions_latest_forget,
    tell_organisers,
    when_text,
)
from .settlement import estimated_share, settle_if_ready, short_of


def _check(
    *,
    title: object,
    description: object,
    category: object,
    format: object,
    starts_at: datetime.datetime,
    minutes: object,
    capacity: object,
    place: object,
    video_link: object,
) -> dict[str, object]:
    """The session's details, checked; refusals name their field."""
    if category not in Listing.Category.values:
        raise SessionRefused(_("Choose a category."), field="category")
    if format not in Format.values:
        raise SessionRefused(_("Choose in person, online, or both."), field="format")
    if (
        not isinstance(minutes, int)
        or not MINUTES_STEP <= minutes <= MAX_MINUTES
        or minutes % MINUTES_STEP
    ):
        raise SessionRefused(
            _("Give the length in steps of %(step)s minutes, up to %(most)s.")
            % {"step": MINUTES_STEP, "most": minutes_as_text(MAX_MINUTES)},
            field="minutes",
        )
    if not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise SessionRefused(
            _("Give between 1 and %(most)s places.") % {"most": MAX_CAPACITY}, field="capacity"
        )
    if timezone.is_naive(starts_at):
        raise SessionRefused(_("Give the time with its time zone."), field="starts_at")
    if starts_at <= timezone.now():
        raise SessionRefused(_("Choose a time in the future."), field="starts_at")
    place_text = clean_text(place, name="place", limit=300, required=False)
    link = ics.video_link_clean(str(video_link or ""), refusal=SessionRefused)
    if format != Format.ONLINE and not place_text:
        raise SessionRefused(_("Say where the session is."), field="place")
    return {
        "title": clean_text(title, name="title", limit=200),
        "description": clean_text(description, name="description", limit=4000, required=False),
        "category": category,
        "format": format,
        "starts_at": starts_at,
        "minutes": minutes,
        "capacity": capacity,
        "place": place_text,
        "video_link": link,
    }


@durable_service
def session_create(
    *,
    actor: Member,
    title: str,
    description: str = "",
    category: str,
    format: str,
    starts_at: datetime.datetime,
    minutes: int,
    capacity: int,
    place: str = "",
    video_link: str = "",
) -> GroupSession:
    """Post a group session the actor gives; they are emailed its calendar invite.
    Refused to a member who has not finished joining."""
    member_require_joined(actor, before=_("posting a session"))
    fields = _check(
        title=title,
        description=description,
        category=category,
        format=format,
        starts_at=starts_at,
        minutes=minutes,
        capacity=capacity,
        place=place,
        video_link=video_link,
    )
    session = GroupSession.objects.create(giver=actor, **fields)
    sessions_latest_forget()
    notify(
        session,
        actor,
        kind=Kind.GROUP_SESSION,
        event="posted",
        title=f"Your session “{session.title}” is posted for {when_text(session.starts_at)}",
        invite="request",
    )
    return session


def _booked(session: GroupSession) -> list[Booking]:
    return list(session.bookings.filter(state=BookingState.BOOKED).select_related("member"))


@durable_service
def session_update(
    *,
    actor: Member,
    session: GroupSession,
    title: str,
    description: str = "",
    category: str,
    format: str,
    starts_at: datetime.datetime,
    minutes: int,
    capacity: int,
    place: str = "",
    video_link: str = "",
) -> GroupSession:
    """The giver changes the session before it starts. Everyone booked (and the giver)
    is emailed the changed invite, its SEQUENCE raised; more places go to the waiting
    list in turn. Fewer places than are booked is refused."""
    fields = _check(
        title=title,
        description=description,
        category=category,
        format=format,
        starts_at=starts_at,
        minutes=minutes,
        capacity=capacity,
        place=place,
        video_link=video_link,
    )
    session = locked(session.pk)
    require_move(session, actor, None, "edit")
    booked = _booked(session)
    if capacity < len(booked):
        raise SessionRefused(
            ngettext(
                "%(count)s member has booked: keep at least %(count)s place.",
                "%(count)s members have booked: keep at least %(count)s places.",
                len(booked),
            )
            % {"count": len(booked)},
            field="capacity",
        )
    for name, value in fields.items():
        setattr(session, name, value)
    session.sequence += 1
    session.reminded_at = None
    session.save()
    sessions_latest_forget()
    title_text = f"“{session.title}” has changed: now {when_text(session.starts_at)}"
    for member in [session.giver, *(b.member for b in booked)]:
        notify(
            session,
            member,
            kind=Kind.GROUP_SESSION,
            event=f"changed:{session.sequence}",
            title=title_text,
            body=session.place or session.video_link,
            invite="request",
        )
    promote(session, places=capacity - len(booked))
    return session


def promote(session: GroupSession, *, places: int) -> None:
    """Give up to `places` free places to the waiting list, first come first served."""
    if places <= 0:
        return
    waiting = list(
        session.bookings.select_for_update()
        .filter(state=BookingState.WAITING)
        .select_related("member")
        .order_by("queued_at", "id")[:places]
    )
    for booking in waiting:
        booking.state = BookingState.BOOKED
        booking.save(update_fields=["state", "updated_at"])
        session.sequence += 1
        session.save(update_fields=["sequence", "updated_at"])
        notify(
            session,
            booking.member,
            kind=Kind.GROUP_SESSION,
            event=f"promoted:{session.sequence}",
            title=f"A place came free: you are booked on “{session.title}”",
            body=f"{when_text(session.starts_at)}. {session.place}".strip(),
            invite="request",
        )


@durable_service
def session_cancel(*, actor: Member, session: GroupSession, reason: str = "") -> GroupSession:
    """The giver cancels the session: every booking ends, those booked get METHOD:CANCEL
    for their calendars, the waiting list is told. Nothing moves in the ledger."""
    reason = clean_text(reason, name="reason", limit=1000, required=False)
    session = locked(session.pk)
    require_move(session, actor, None, "cancel")
    title = cancel_booked(session, reason=reason)
    notify(
        session,
        session.giver,
        kind=Kind.GROUP_SESSION,
        event="cancelled",
        title=title,
        body=reason,
        invite="cancel",
    )
    return session


def cancel_booked(session: GroupSession, *, reason: str) -> str:
    """Cancel `session` (locked by the caller) and every booking on it, telling those
    booked (with METHOD:CANCEL) and those waiting. Returns the notice's title."""
    active = list(
        session.bookings.select_for_update()
        .filter(state__in=[BookingState.BOOKED, BookingState.WAITING])
        .select_related("member")
    )
    session.state = SessionState.CANCELLED
    session.sequence += 1
    session.save(update_fields=["state", "sequence", "updated_at"])
    title = f"Cancelled: “{session.title}” on {when_text(session.starts_at)}"
    for booking in active:
        was_booked = booking.state == BookingState.BOOKED
        booking.state = BookingState.CANCELLED
        booking.save(update_fields=["state", "updated_at"])
        notify(
            session,
            booking.member,
            kind=Kind.GROUP_SESSION,
            event="cancelled",
            title=title,
            body=reason,
            invite="cancel" if was_booked else None,
        )
    return title


@durable_service
def booking_create(*, actor: Member, session: GroupSession) -> Booking:
    """Book a place, or join the waiting list when the session is full. Refused to the
    giver, after the session has started, twice for the same member, to a member who
    has not finished joining, and (as not found) between members who blocked each other.
    A booked place is emailed as a calendar invite."""
    member_require_joined(actor, before=_("booking a session"))
    session = locked(session.pk)
    if members_blocked_between(session.giver_id, actor):
        raise NotFound(_("No such session."))  # as to anyone the session is not there for
    booking = own_booking(session, actor)
    if booking is not None and booking.state in (BookingState.BOOKED, BookingState.WAITING):
        raise SessionRefused(
            _("You are already %(state)s.") % {"state": BookingState(booking.state).label.lower()}
        )
    require_move(session, actor, booking, "book")
    full = session.bookings.filter(state=BookingState.BOOKED).count() >= session.capacity
    state = BookingState.WAITING if full else BookingState.BOOKED
    now = timezone.now()
    if booking is None:
        try:
            with transaction.atomic():
                booking = Booking.objects.create(
                    session=session, member=actor, state=state, queued_at=now
                )
        except IntegrityError:
            raise SessionRefused(_("You have booked this session already.")) from None
    else:
        booking.state, booking.queued_at = state, now
        booking.save(update_fields=["state", "queued_at", "updated_at"])
    if state == BookingState.BOOKED:
        session.sequence += 1
        session.save(update_fields=["sequence", "updated_at"])
        notify(
            session,
            actor,
            kind=Kind.GROUP_SESSION,
            event=f"booked:{session.sequence}",
            title=f"You are booked on “{session.title}”, {when_text(session.starts_at)}",
            body=session.place or session.video_link,
            invite="request",
        )
    else:
        ahead = session.bookings.filter(state=BookingState.WAITING, queued_at__lt=now).count()
        notify(
            session,
            actor,
            kind=Kind.GROUP_SESSION,
            event=f"waiting:{now.timestamp()}",
            title=f"“{session.title}” is full: you are number {ahead + 1} on the waiting list",
            body="We will email you if a place comes free.",
        )
    return booking


@durable_service
def booking_cancel(*, actor: Member, session: GroupSession) -> Booking:
    """Cancel one's booking (or leave the waiting list) before attendance is marked. A
    booked place freed goes to the first member waiting; the leaving member's calendar
    gets METHOD:CANCEL."""
    session = locked(session.pk)
    booking = require_booking(session, actor, "unbook")
    if unbook(session, booking):
        notify(
            session,
            actor,
            kind=Kind.GROUP_SESSION,
            event=f"unbooked:{session.sequence}",
            title=f"Your booking on “{session.title}” is cancelled",
            invite="cancel",
        )
        promote(session, places=1)
    return booking


def unbook(session: GroupSession, booking: Booking) -> bool:
    """End `booking` (a place, or one on the waiting list) of `session`, locked by the
    caller. Whether it held a place, which the caller gives to the waiting list."""
    was_booked = booking.state == BookingState.BOOKED
    booking.state = BookingState.CANCELLED
    booking.save(update_fields=["state", "updated_at"])
    if was_booked:
        session.sequence += 1
        session.save(update_fields=["sequence", "updated_at"])
    return was_booked


@durable_service
def attendance_mark(
    *, actor: Member, session: GroupSession, present: Iterable[int]
) -> GroupSession:
    """After the session starts, the giver says who attended (member ids of booked
    members); the rest of the booked did not attend (nothing to pay), the waiting list is
    closed. Each attendee is asked to confirm. With nobody present the session settles at
    once with nothing moved."""
    session = locked(session.pk)
    require_move(session, actor, None, "mark")
    present_ids = set(present)
    booked = {
        b.member_id: b
        for b in session.bookings.select_for_update()
        .filter(state__in=[BookingState.BOOKED, BookingState.WAITING])
        .select_related("member")
    }
    strangers = present_ids - {m for m, b in booked.items() if b.state == BookingState.BOOKED}
    if strangers:
        raise SessionRefused(_("Mark only members who booked a place."), field="present")
    now = timezone.now()
    session.state = SessionState.HELD
    session.held_at = now
    session.save(update_fields=["state", "held_at", "updated_at"])
    share = estimated_share(session.minutes, len(present_ids))
    for member_id, booking in booked.items():
        if booking.state == BookingState.WAITING:
            booking.state = BookingState.CANCELLED
        elif member_id in present_ids:
            booking.state = BookingState.ATTENDED
            booking.attended_marked_at = now
            notify(
                session,
                booking.member,
                kind=Kind.CONFIRM_HOURS,
                event="attended",
                title=f"Please confirm you attended “{session.title}”",
                body=f"{session.giver.full_name} marked you as attending. Your share is at "
                f"most {minutes_as_text(share)} of credit.",
            )
        else:
            booking.state = BookingState.ABSENT
        booking.save(update_fields=["state", "attended_marked_at", "updated_at"])
    settle_if_ready(session, actor=actor)
    return session


@durable_service
def attendance_confirm(*, actor: Member, session: GroupSession) -> Booking:
    """The attendee confirms they attended. When every attendance is answered the session
    settles: one transfer moves each attendee's share to the giver. Refused, nothing
    changed, when the attendee lacks the credit for their share."""
    session = locked(session.pk)
    booking = require_booking(session, actor, "confirm")
    share = estimated_share(
        session.minutes,
        session.bookings.filter(
            state__in=[BookingState.ATTENDED, BookingState.CONFIRMED, BookingState.DISPUTED]
        ).count(),
    )
    if (available := short_of(actor, share)) is not None:
        raise SessionRefused(
            _(
                "You have %(left)s of credit and your share is %(share)s. "
                "Offer some help to earn more, then confirm."
            )
            % {"left": minutes_as_text(available), "share": minutes_as_text(share)},
            balance=available,
            needed=share,
        )
    booking.state = BookingState.CONFIRMED
    booking.confirmed_at = timezone.now()
    booking.save(update_fields=["state", "confirmed_at", "updated_at"])
    settle_if_ready(session, actor=actor)
    return booking


def _to_dispute(session: GroupSession, booking: Booking, reason: str) -> None:
    booking.state = BookingState.DISPUTED
    booking.dispute_reason = reason
    booking.save(update_fields=["state", "dispute_reason", "updated_at"])
    tell_organisers(session, booking, f"{booking.member.full_name}: {reason}", event="disputed")


@durable_service
def attendance_dispute(*, actor: Member, session: GroupSession, reason: str) -> Booking:
    """The attendee disagrees (they did not attend, or not for the session's length): an
    organiser settles it; the session settles after that."""
    reason = clean_text(reason, name="reason", limit=1000)
    session = locked(session.pk)
    booking = require_booking(session, actor, "dispute")
    _to_dispute(session, booking, reason)
    notify(
        session,
        session.giver,
        kind=Kind.DISPUTE,
        event=f"disputed:{booking.pk}",
        title=f"{actor.full_name} disputed their attendance at “{session.title}”",
        body=reason,
    )
    return booking


SETTLE_OUTCOMES = {
    "confirm": BookingState.CONFIRMED,  # they attended and pay their share
    "waive": BookingState.WAIVED,  # they attended; no charge
    "absent": BookingState.ABSENT,  # they did not attend
}


@durable_service
def attendance_settle(*, actor: Member, booking: Booking, outcome: str, note: str) -> Booking:
    """An organiser settles a disputed attendance: confirm it (the member pays their
    share), waive the charge, or record them absent. Audited with the note; the session
    settles once nothing else is open."""
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied(_("Only organisers can settle disputes."))
    note = clean_text(note, name="note", limit=1000)
    if outcome not in SETTLE_OUTCOMES:
        raise SessionRefused(_("Choose confirm, waive or absent."), field="outcome")
    session = locked(booking.session_id)
    booking = Booking.objects.select_for_update().select_related("member").get(pk=booking.pk)
    if booking.state != BookingState.DISPUTED:
        raise SessionRefused(_("Only disputed attendances are settled."), booking=booking.state)
    before = {"state": booking.state, "reason": booking.dispute_reason}
    booking.state = SETTLE_OUTCOMES[outcome]
    booking.save(update_fields=["state", "updated_at"])
    audit_record(
        actor=actor,
        verb=f"groupsession.settle.{outcome}",
        target=booking,
        before=before,
        after={"state": booking.state},
        reason=note,
    )
    for member in (booking.member, session.giver):
        notify(
            session,
            member,
            kind=Kind.DISPUTE,
            event=f"settled:{booking.pk}",
            title=f"An organiser settled the attendance dispute about “{session.title}”",
            body=note,
        )
    settle_if_ready(session, actor=actor)
    return booking

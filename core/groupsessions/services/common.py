"""What the group-session services share: the refusal, who may do what when (`MOVES`),
locking, clean input, and notifying a member with the session's calendar invite."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.groupsessions.models import Booking, BookingState, GroupSession, SessionState
from core.members.models import Member, MemberState
from core.members.models import Role as MemberRole
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel import ics
from kernel.cache import cache_forget
from kernel.db import connection
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import plain_text
from tenants.selectors import network_current, network_url

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


# When the latest open session starts, kept in the cache (keys carry the network's schema)
# so that a member's home asks for their next sessions only while one may be ahead. A
# session that is cancelled or held only makes the kept time too late, never too early;
# posting or moving one forgets it (sessions_latest_forget).
LATEST_KEY = "groupsessions:latest-start"
LATEST_SECONDS = 600


def sessions_latest_forget() -> None:
    cache_forget(LATEST_KEY)


class SessionRefused(ApplicationError):
    """The move is not allowed now (wrong state, wrong person or bad input)."""

    status_code = 409


class Role(StrEnum):
    GIVER = "giver"
    MEMBER = "member"  # any other member of the network (booking, or on the list)


def started(session: GroupSession) -> str | None:
    if session.starts_at <= timezone.now():
        return _("the session has started")
    return None


def not_started(session: GroupSession) -> str | None:
    if session.starts_at > timezone.now():
        return _("the session starts on %(when)s") % {"when": when_text(session.starts_at)}
    return None


def never(session: GroupSession) -> str | None:
    return None


@dataclass(frozen=True)
class Move:
    """A move: the session states it starts from, the booking states the actor's own
    booking must be in (None: any, or none), who may make it, and why it must wait."""

    states: frozenset[SessionState]
    role: Role
    doing: StrOrPromise
    bookings: frozenset[BookingState] | None = None
    not_yet: Callable[[GroupSession], str | None] = never


OPEN = frozenset({SessionState.OPEN})
HELD = frozenset({SessionState.HELD})
# The one statement of who may do what when: the services refuse by it, the pages and the
# API offer by it. An organiser settling a disputed attendance checks its own rule.
MOVES: dict[str, Move] = {
    "edit": Move(OPEN, Role.GIVER, gettext_lazy("change this session"), not_yet=started),
    "cancel": Move(OPEN, Role.GIVER, gettext_lazy("cancel this session")),
    "mark": Move(OPEN, Role.GIVER, gettext_lazy("mark attendance"), not_yet=not_started),
    "book": Move(
        OPEN,
        Role.MEMBER,
        gettext_lazy("book this session"),
        frozenset({BookingState.CANCELLED}),
        started,
    ),
    "unbook": Move(
        OPEN,
        Role.MEMBER,
        gettext_lazy("cancel your booking"),
        frozenset({BookingState.BOOKED, BookingState.WAITING}),
    ),
    "confirm": Move(
        HELD,
        Role.MEMBER,
        gettext_lazy("confirm your attendance"),
        frozenset({BookingState.ATTENDED}),
    ),
    "dispute": Move(
        HELD,
        Role.MEMBER,
        gettext_lazy("dispute your attendance"),
        frozenset({BookingState.ATTENDED}),
    ),
}


def role_of(session: GroupSession, member: Member) -> Role:
    return Role.GIVER if session.giver_id == member.pk else Role.MEMBER


def move_allowed(session: GroupSession, member: Member, booking: Booking | None, move: str) -> bool:
    rule = MOVES[move]
    state = booking.state if booking is not None else BookingState.CANCELLED
    return (
        session.state in rule.states
        and role_of(session, member) == rule.role
        and (rule.bookings is None or state in rule.bookings)
        and rule.not_yet(session) is None
    )


def require_move(session: GroupSession, member: Member, booking: Booking | None, move: str) -> None:
    """Refuse, clearly, a move the member may not make now."""
    rule = MOVES[move]
    if role_of(session, member) != rule.role:
        who = _("the person giving it") if rule.role == Role.GIVER else _("members attending it")
        raise PermissionDenied(_("Only %(who)s can %(doing)s.") % {"who": who, "doing": rule.doing})
    if session.state not in rule.states:
        label = SessionState(session.state).label.lower()
        raise SessionRefused(
            _("You cannot %(doing)s now: this session is %(label)s.")
            % {"doing": rule.doing, "label": label},
            state=session.state,
        )
    state = booking.state if booking is not None else BookingState.CANCELLED
    if rule.bookings is not None and state not in rule.bookings:
        label = _("not booked") if booking is None else BookingState(state).label.lower()
        raise SessionRefused(
            _("You cannot %(doing)s: your booking is %(label)s.")
            % {"doing": rule.doing, "label": label},
            booking=state,
        )
    if (reason := rule.not_yet(session)) is not None:
        raise SessionRefused(
            _("You cannot %(doing)s now: %(reason)s.") % {"doing": rule.doing, "reason": reason},
            state=session.state,
        )


def locked(session_id: int) -> GroupSession:
    session = (
        GroupSession.objects.select_for_update(of=("self",))
        .select_related("giver")
        .filter(pk=session_id)
        .first()
    )
    if session is None:
        raise NotFound(_("No such session."))
    return session


def own_booking(session: GroupSession, member: Member) -> Booking | None:
    return (
        Booking.objects.select_for_update()
        .select_related("member")
        .filter(session=session, member=member)
        .first()
    )


def require_booking(session: GroupSession, member: Member, move: str) -> Booking:
    """The member's own booking, locked, if they may make `move` (one that needs a
    booking) now; otherwise a clear refusal."""
    booking = own_booking(session, member)
    require_move(session, member, booking, move)
    if booking is None:
        raise SessionRefused(_("You have not booked this session."))
    return booking


# What a required text asks for when it is left empty, by its field name.
_MISSING = {
    "title": gettext_lazy("Please write a title."),
    "reason": gettext_lazy("Please write a reason."),
    "note": gettext_lazy("Please write a note."),
}


def clean_text(value: object, *, name: str, limit: int, required: bool = True) -> str:
    missing = str(_MISSING[name]) if required else None
    return plain_text(value, name=name, limit=limit, missing=missing, refusal=SessionRefused)


def when_text(moment: datetime.datetime) -> str:
    """`Monday 30 November at 14:30`, in the network's time zone."""
    return timezone.localtime(moment).strftime("%A %-d %B at %H:%M")


def session_page(session: GroupSession) -> str:
    return f"/sessions/{session.pk}/"


def session_event(
    session: GroupSession, *, member: Member | None, cancelled: bool = False, url: str = ""
) -> ics.Event:
    """The session as a calendar event for `member` (its giver or an attendee)."""
    giving = member is not None and member.pk == session.giver_id
    by = "you" if giving else session.giver.full_name
    description = f"A group session given by {by}.\n\n{session.description}".strip()
    return ics.Event(
        uid=ics.uid_for("groupsession", session.pk, connection.schema_name),
        sequence=session.sequence,
        starts_at=session.starts_at,
        minutes=session.minutes,
        title=session.title,
        description=description,
        place=session.place,
        video_link=session.video_link,
        url=url,
        attendee_email=member.email if member is not None else "",
        attendee_name=member.full_name if member is not None else "",
        cancelled=cancelled,
    )


def session_invite(session: GroupSession, member: Member, *, cancelled: bool = False) -> str:
    url = network_url(network_current(), session_page(session))
    event = session_event(session, member=member, cancelled=cancelled, url=url)
    return ics.invite(event, network_name=network_current().name)


def notify(
    session: GroupSession,
    member: Member,
    *,
    kind: Kind,
    event: str,
    title: str,
    body: str = "",
    invite: str | None = None,
) -> None:
    """Notify `member` about `session`, once per `event`; `invite` "request" or "cancel"
    attaches the session's calendar invite at its current SEQUENCE."""
    calendar = ""
    if invite is not None:
        calendar = session_invite(session, member, cancelled=invite == "cancel")
    notification_send(
        recipient=member,
        kind=kind,
        key=f"groupsession:{session.pk}:{event}:{member.pk}",
        title=title[:200],
        body=body,
        url=session_page(session),
        calendar=calendar,
    )


def tell_organisers(session: GroupSession, booking: Booking, reason: str, *, event: str) -> None:
    """Every organiser of the network is asked to settle `booking`'s attendance, as with
    exchange disputes (they settle on the session's page)."""
    for organiser in Member.objects.filter(role=MemberRole.ORGANISER, state=MemberState.ACTIVE):
        notification_send(
            recipient=organiser,
            kind=Kind.DISPUTE,
            key=f"groupsession:{session.pk}:{event}:{booking.pk}:organiser:{organiser.pk}",
            title=f"A session attendance needs settling: “{session.title}”",
            body=reason,
            url=session_page(session),
        )

"""A member closing their account (core.privacy.services.member_close) leaves the group
sessions they give and have booked."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.groupsessions.models import (
    Booking,
    BookingState,
    CalendarFeed,
    GroupSession,
    SessionState,
)
from core.members.models import Member

from .common import SessionRefused, locked
from .lifecycle import cancel_booked, promote, unbook
from .settlement import settle_if_ready

GIVER_LEFT = gettext_lazy("The member giving this session has left the network.")


def sessions_close_for_member(*, member: Member) -> int:
    """End `member`'s part in group sessions, inside the caller's transaction, which
    rolls back whole on a refusal. Sessions they give that have not been held are
    cancelled (those booked get METHOD:CANCEL, the waiting list is told); their places and
    places on waiting lists for sessions not yet held are given up, a freed place going to
    the first waiting; attendances waiting for their answer are confirmed, as
    auto-confirmation would, so the session can settle before their credit is returned.
    Refused (`SessionRefused`) while a session they gave waits for its attendees, or an
    attendance of theirs is disputed: credit would move after the account closed. Their
    calendar feed stops. They are told nothing: their address is being erased. Returns how
    many sessions were cancelled."""
    given = GroupSession.objects.filter(giver=member)
    waiting_on_others = given.filter(state=SessionState.HELD).first()
    if waiting_on_others is not None:
        raise SessionRefused(
            _(
                "You gave “%(title)s”, whose attendees are still confirming. Close your "
                "account once it has settled."
            )
            % {"title": waiting_on_others.title}
        )
    bookings = Booking.objects.filter(member=member)
    if bookings.filter(state=BookingState.DISPUTED).exists():
        raise SessionRefused(
            _(
                "An organiser is settling your attendance at a group session. Close your "
                "account once it is settled."
            )
        )
    cancelled = 0
    for session_id in (
        given.filter(state=SessionState.OPEN).order_by("pk").values_list("pk", flat=True)
    ):
        cancel_booked(locked(session_id), reason=str(GIVER_LEFT))
        cancelled += 1
    mine = bookings.filter(
        state__in=[BookingState.BOOKED, BookingState.WAITING, BookingState.ATTENDED]
    )
    for session_id in mine.order_by("session_id").values_list("session_id", flat=True):
        session = locked(session_id)
        booking = Booking.objects.select_for_update().get(session=session, member=member)
        if booking.state == BookingState.ATTENDED:
            booking.state = BookingState.CONFIRMED
            booking.confirmed_at = timezone.now()
            booking.save(update_fields=["state", "confirmed_at", "updated_at"])
            settle_if_ready(session, actor=member)
        elif session.state == SessionState.OPEN and unbook(session, booking):
            promote(session, places=1)
    CalendarFeed.objects.filter(member=member).delete()
    return cancelled

"""Settling a session: when every attendance is answered, one balanced transfer moves the
credit, keyed `groupsession:<id>:settle` (docs/decisions.md, "Group sessions").

The rule: the giver earns the session's length, as for any hour given. The attendees who
confirmed share that equally, each paying the length divided by their number, rounded up
to the minute; what the rounding adds (less than a minute per attendee) goes to the
network's issuance account. So the transfer's legs are: each paying attendee -share, the
giver +length, the issuance account +(attendees x share - length) when that is not zero.
They sum to zero by construction, and the ledger's own check refuses anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from core.groupsessions.models import (
    PAYING,
    UNSETTLED,
    Booking,
    BookingState,
    GroupSession,
    SessionState,
)
from core.members.models import Member
from core.notifications.models import Kind
from ledger.models import Account, Transfer
from ledger.services import Leg, issuance_account, member_account, minutes_as_text, transfer_create

from .common import notify, tell_organisers


def estimated_share(minutes: int, attendees: int) -> int:
    """Each attendee's share of `minutes` among `attendees`, rounded up to the minute."""
    return -(-minutes // max(attendees, 1))


@dataclass(frozen=True)
class Split:
    share: int  # what each paying attendee pays
    giver: int  # what the giver earns
    remainder: int  # what the rounding sends to the issuance account (0 <= it < attendees)


def split(minutes: int, attendees: int) -> Split:
    """The credit rule: for `attendees` > 0 paying attendees of a session of `minutes`."""
    share = estimated_share(minutes, attendees)
    return Split(share=share, giver=minutes, remainder=share * attendees - minutes)


def short_of(member: Member, minutes: int) -> int | None:
    """The member's available credit if it is less than `minutes`, else None."""
    available = _available(Account.objects.get(pk=member_account(member).pk))
    return max(available, 0) if available < minutes else None


def settle_if_ready(session: GroupSession, *, actor: Member | None) -> bool:
    """Settle `session` (locked by the caller) if every attendance is answered: post the
    one transfer, or, when an attendee can no longer pay their share, send that
    attendance to an organiser and wait. Returns whether it settled."""
    if session.state != SessionState.HELD:
        return False
    bookings = list(
        session.bookings.select_for_update().select_related("member").order_by("member_id")
    )
    if any(b.state in UNSETTLED for b in bookings):
        return False
    payers = [b for b in bookings if b.state in PAYING]
    if payers:
        rule = split(session.minutes, len(payers))
        accounts = {b.member_id: member_account(b.member) for b in payers}
        giver_account = member_account(session.giver)
        pot = issuance_account()
        # Lock every account in id order, as ledger_post does, then read the balances
        # that the posting will see: a shortfall found here cannot change before it.
        ids = sorted({a.pk for a in accounts.values()} | {giver_account.pk, pot.pk})
        balances = {
            a.pk: a for a in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        }
        short = [b for b in payers if _available(balances[accounts[b.member_id].pk]) < rule.share]
        if short:
            for booking in short:
                _cannot_pay(session, booking, rule.share)
            return False
        legs = [Leg(accounts[b.member_id], -rule.share) for b in payers]
        legs.append(Leg(giver_account, rule.giver))
        if rule.remainder:
            legs.append(Leg(pot, rule.remainder))
        transfer_create(
            idempotency_key=session.ledger_key,
            legs=legs,
            kind=Transfer.Kind.EXCHANGE,
            memo=f"Group session: {session.title} ({len(payers)} attending, "
            f"{minutes_as_text(session.minutes)})"[:500],
            actor=actor,
        )
        for booking in payers:
            booking.paid_minutes = rule.share
            booking.save(update_fields=["paid_minutes", "updated_at"])
            notify(
                session,
                booking.member,
                kind=Kind.HOURS_CONFIRMED,
                event="settled",
                title=f"“{session.title}” is settled: you paid {minutes_as_text(rule.share)}",
                body="Your share of the session's time.",
            )
        notify(
            session,
            session.giver,
            kind=Kind.HOURS_CONFIRMED,
            event="settled",
            title=f"“{session.title}” is settled: you earned "
            f"{minutes_as_text(rule.giver)} of credit",
            body=f"{len(payers)} attendees confirmed.",
        )
    session.state = SessionState.SETTLED
    session.settled_at = timezone.now()
    session.save(update_fields=["state", "settled_at", "updated_at"])
    return True


def _available(account: Account) -> int:
    return account.balance - account.floor if account.floor is not None else 10**12


def _cannot_pay(session: GroupSession, booking: Booking, share: int) -> None:
    """An attendee who confirmed has since spent the credit for their share: an organiser
    decides (they pay once they can, the charge is waived, or they did not attend)."""
    reason = (
        f"{booking.member.full_name} confirmed but no longer has the "
        f"{minutes_as_text(share)} of credit for their share."
    )
    booking.state = BookingState.DISPUTED
    booking.dispute_reason = reason
    booking.save(update_fields=["state", "dispute_reason", "updated_at"])
    notify(
        session,
        booking.member,
        kind=Kind.DISPUTE,
        event=f"short:{share}",
        title=f"You do not have the credit for your share of “{session.title}”",
        body="An organiser will settle it with you.",
    )
    tell_organisers(session, booking, reason, event=f"short:{share}")

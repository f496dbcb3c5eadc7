"""The moves of an exchange, from the first response to the credit moving, and an
organiser settling a dispute."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.exchanges.models import FINAL_STATES, MAX_MINUTES, MINUTES_STEP, Exchange, Proposal, State
from core.listings.models import Listing
from core.members.models import Member, MemberState, Role
from core.members.selectors import members_blocked_between
from core.members.services import member_require_joined
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel import ics
from kernel.db import durable_service
from kernel.errors import NotFound, PermissionDenied
from ledger.federation.models import RemoteExchange
from ledger.federation.selectors import federation_partners
from ledger.federation.services import federated_transfer_create
from ledger.models import Transfer
from ledger.services import (
    InsufficientCredit,
    Leg,
    TransferRequest,
    member_account,
    minutes_as_text,
    transfer_create,
)
from tenants.models import Network
from tenants.selectors import network_current

from .calendar import invite_for
from .common import (
    ExchangeRefused,
    Side,
    clean_text,
    display_name,
    guest_network,
    locked,
    meeting_time_text,
    message_write,
    notify,
    organiser_message_write,
    other_side,
    owner_side,
    refresh_insights_after_commit,
    require_move,
    require_not_blocked,
)
from .rules import exchange_settings

LISTING_NOT_OPEN = gettext_lazy("This listing is not open for responses.")


@durable_service
def exchange_respond(
    *, actor: Member, listing: Listing, message: str, actor_network: Network | None = None
) -> Exchange:
    """Answer a listing with a message, opening an exchange with its owner.

    Refused for one's own listing, for a listing that is not open, for a member who has
    not finished joining, and while the member already has an unfinished exchange on the
    same listing. A member of another network may answer only a listing shared with
    partner networks, and only when the two networks exchange with each other.
    """
    body = clean_text(message, name="message", limit=4000)
    member_require_joined(actor, before=_("responding"))
    here = network_current()
    guest = guest_network(actor_network)
    # Lock the listing: two responses from the same member queue here.
    listing = Listing.objects.select_for_update().select_related("owner").get(pk=listing.pk)
    if listing.status != Listing.Status.OPEN or listing.hidden_reason:
        raise ExchangeRefused(str(LISTING_NOT_OPEN))
    responder = Side.RECEIVER if listing.kind == Listing.Kind.OFFER else Side.GIVER
    sides: dict[str, Member] = {other_side(responder): listing.owner}
    if guest is None:
        if listing.owner_id == actor.pk:
            raise ExchangeRefused(_("This is your own listing."))
        if members_blocked_between(listing.owner_id, actor):
            # The same words as for a closed listing: a block is never revealed.
            raise ExchangeRefused(str(LISTING_NOT_OPEN))
        sides[responder] = actor
        existing = Exchange.objects.filter(listing=listing, **sides)
    else:
        if listing.visibility != Listing.Visibility.PARTNERS:
            raise NotFound(_("No such listing."))
        if not federation_partners(here, guest):
            raise ExchangeRefused(
                _("%(network)s and %(other_network)s do not exchange time with each other.")
                % {"network": here.name, "other_network": guest.name}
            )
        existing = Exchange.objects.filter(
            listing=listing, remote_network_id=guest.pk, remote_member_id=actor.pk
        )
    if existing.exclude(state__in=FINAL_STATES).exists():
        raise ExchangeRefused(_("You already have an exchange in progress on this listing."))
    exchange = Exchange(listing=listing, **sides)
    if guest is not None:
        exchange.remote_network_id = guest.pk
        exchange.remote_member_id = actor.pk
        exchange.remote_name = display_name(actor, guest)
    exchange.save()
    message_write(exchange, responder, actor, guest, body)
    if guest is not None:
        RemoteExchange.objects.create(
            host_network=here,
            exchange_id=exchange.pk,
            guest_network=guest,
            guest_member_id=actor.pk,
        )
    notify(
        exchange,
        other_side(responder),
        kind=Kind.RESPONSE_RECEIVED,
        event="responded",
        title=f"{display_name(actor, guest)} responded to “{listing.title}”",
        body=body,
    )
    return exchange


@durable_service
def exchange_accept(
    *, actor: Member, exchange: Exchange, actor_network: Network | None = None
) -> Exchange:
    exchange = locked(exchange.pk)
    require_move(exchange, "accept", actor, actor_network)
    exchange.state = State.ACCEPTED
    exchange.save(update_fields=["state", "updated_at"])
    notify(
        exchange,
        other_side(owner_side(exchange)),
        kind=Kind.RESPONSE_ACCEPTED,
        event="accepted",
        title=f"Your response to “{exchange.listing.title}” was accepted: suggest a time to meet",
    )
    return exchange


@durable_service
def exchange_decline(
    *, actor: Member, exchange: Exchange, reason: str = "", actor_network: Network | None = None
) -> Exchange:
    reason = clean_text(reason, name="reason", limit=1000, required=False)
    exchange = locked(exchange.pk)
    side = require_move(exchange, "decline", actor, actor_network)
    exchange.state = State.DECLINED
    exchange.save(update_fields=["state", "updated_at"])
    if reason:
        message_write(exchange, side, actor, actor_network, reason)
    notify(
        exchange,
        other_side(side),
        kind=Kind.RESPONSE_DECLINED,
        event="declined",
        title=f"Your response to “{exchange.listing.title}” was declined",
        body=reason,
    )
    return exchange


@durable_service
def exchange_propose(
    *,
    actor: Member,
    exchange: Exchange,
    starts_at: datetime.datetime,
    place: str,
    video_link: str = "",
    actor_network: Network | None = None,
) -> Proposal:
    """Suggest a time and place, with a video-call link (https only) when meeting online.
    A suggestion replaces any unanswered one; the other side accepts it or makes their own
    (a counter-proposal)."""
    place = clean_text(place, name="place", limit=300)
    video_link = ics.video_link_clean(video_link, refusal=ExchangeRefused)
    if timezone.is_naive(starts_at):
        raise ExchangeRefused(_("Give the time with its time zone."), field="starts_at")
    if starts_at <= timezone.now():
        raise ExchangeRefused(_("Suggest a time in the future."), field="starts_at")
    exchange = locked(exchange.pk)
    side = require_move(exchange, "propose", actor, actor_network)
    require_not_blocked(exchange, _("suggest a time"))
    exchange.proposals.filter(status=Proposal.Status.OPEN).update(status=Proposal.Status.SUPERSEDED)
    proposal = Proposal.objects.create(
        exchange=exchange,
        proposed_by=side,
        starts_at=starts_at,
        place=place,
        video_link=video_link,
    )
    exchange.save(update_fields=["updated_at"])
    when = meeting_time_text(starts_at)
    notify(
        exchange,
        other_side(side),
        kind=Kind.MEETING_PROPOSED,
        event=f"proposal:{proposal.pk}",
        title=f"{display_name(actor, actor_network)} suggested {when}",
        body=place,
    )
    return proposal


@durable_service
def exchange_agree(
    *, actor: Member, exchange: Exchange, proposal_id: int, actor_network: Network | None = None
) -> Exchange:
    """Accept the other side's suggestion: the meeting is arranged, and both sides are
    emailed a calendar invite (its SEQUENCE raised when this replaces an agreed time)."""
    exchange = locked(exchange.pk)
    side = require_move(exchange, "agree", actor, actor_network)
    proposal = exchange.proposals.filter(pk=proposal_id, status=Proposal.Status.OPEN).first()
    if proposal is None:
        raise ExchangeRefused(_("That suggestion has been replaced or answered already."))
    if proposal.proposed_by == side:
        raise ExchangeRefused(_("Wait for the other person to answer your suggestion."))
    proposal.status = Proposal.Status.ACCEPTED
    proposal.save(update_fields=["status"])
    exchange.state = State.SCHEDULED
    exchange.meeting_at = proposal.starts_at
    exchange.meeting_place = proposal.place
    exchange.video_link = proposal.video_link
    exchange.reminded_at = None
    if exchange.proposals.filter(status=Proposal.Status.ACCEPTED).exclude(pk=proposal.pk).exists():
        exchange.meeting_sequence += 1  # a new time for a meeting calendars already hold
    exchange.save()
    when = meeting_time_text(proposal.starts_at)
    for to in (other_side(side), side):
        notify(
            exchange,
            to,
            kind=Kind.MEETING_PROPOSED,
            event=f"agreed:{proposal.pk}",
            title=f"Meeting arranged for {when}",
            body="\n".join(filter(None, [proposal.place, proposal.video_link])),
            calendar=invite_for(exchange),
        )
    return exchange


def minutes_check(minutes: object) -> int:
    if not isinstance(minutes, int) or minutes < MINUTES_STEP or minutes > MAX_MINUTES:
        raise ExchangeRefused(
            _("Record between %(least)s and %(most)s.")
            % {"least": minutes_as_text(MINUTES_STEP), "most": minutes_as_text(MAX_MINUTES)},
            field="minutes",
        )
    if minutes % MINUTES_STEP:
        raise ExchangeRefused(_("Record the time in steps of 15 minutes."), field="minutes")
    return minutes


def meeting_date(exchange: Exchange, met_on: datetime.date | None) -> datetime.date:
    """The day the sides met: the agreed meeting's (which must have passed: `MOVES`), or,
    with no meeting agreed here, the day the giver gives, which is not in the future."""
    if exchange.meeting_at is not None:
        agreed = timezone.localdate(exchange.meeting_at)
        if met_on is not None and met_on != agreed:
            raise ExchangeRefused(
                _("You agreed to meet on %(meeting)s: record the hours of that meeting.")
                % {"meeting": meeting_time_text(exchange.meeting_at)},
                field="met_on",
            )
        return agreed
    met_on = met_on or exchange.met_on
    if met_on is None:
        raise ExchangeRefused(_("Say which day you met."), field="met_on")
    if met_on > timezone.localdate():
        raise ExchangeRefused(
            _("Record the hours after you meet: the day you met cannot be in the future."),
            field="met_on",
        )
    return met_on


@durable_service
def exchange_record_hours(
    *,
    actor: Member,
    exchange: Exchange,
    minutes: int,
    met_on: datetime.date | None = None,
    actor_network: Network | None = None,
) -> Exchange:
    """The person who gave help records how long it took (15-minute steps) once they
    have met: after the agreed meeting time, or, when they met without agreeing a time
    here, with the day they met (today or earlier). The person helped is asked to
    confirm. The giver may correct the figure until it is confirmed."""
    minutes = minutes_check(minutes)
    exchange = locked(exchange.pk)
    require_move(exchange, "record", actor, actor_network)
    exchange.met_on = meeting_date(exchange, met_on)
    exchange.state = State.RECORDED
    exchange.minutes = minutes
    exchange.recorded_at = timezone.now()
    exchange.save()
    days = exchange_settings().auto_confirm_days
    notify(
        exchange,
        Side.RECEIVER,
        kind=Kind.CONFIRM_HOURS,
        event=f"recorded:{exchange.recorded_at.timestamp()}",
        title=f"Please confirm {minutes_as_text(minutes)} for “{exchange.listing.title}”",
        body=f"{exchange.giver_name} "
        f"recorded {minutes_as_text(minutes)}. Confirm it, or say what is wrong. "
        f"If you do neither, it is confirmed automatically after {days} days.",
    )
    return exchange


@durable_service
def exchange_confirm(
    *, actor: Member, exchange: Exchange, actor_network: Network | None = None
) -> Exchange:
    """The person helped confirms the hours: the ledger moves the minutes from them to the
    person who helped, once. Refused, with nothing moved, when they lack the credit."""
    exchange = locked(exchange.pk)
    require_move(exchange, "confirm", actor, actor_network)
    exchange_credit_move(exchange, actor=actor)
    return exchange


@durable_service
def exchange_dispute(
    *, actor: Member, exchange: Exchange, reason: str, actor_network: Network | None = None
) -> Exchange:
    """The person helped disagrees with the hours: an organiser settles it."""
    reason = clean_text(reason, name="reason", limit=1000)
    exchange = locked(exchange.pk)
    side = require_move(exchange, "dispute", actor, actor_network)
    to_dispute(exchange, reason)
    message_write(exchange, side, actor, actor_network, f"Disputed: {reason}")
    notify(
        exchange,
        Side.GIVER,
        kind=Kind.DISPUTE,
        event="disputed",
        title=f"The hours for “{exchange.listing.title}” were disputed",
        body=reason,
    )
    return exchange


def to_dispute(exchange: Exchange, reason: str) -> None:
    exchange.state = State.DISPUTED
    exchange.dispute_reason = reason
    exchange.save(update_fields=["state", "dispute_reason", "updated_at"])
    for organiser in Member.objects.filter(role=Role.ORGANISER, state=MemberState.ACTIVE):
        notification_send(
            recipient=organiser,
            kind=Kind.DISPUTE,
            key=f"exchange:{exchange.pk}:disputed:organiser:{organiser.pk}",
            title=f"A dispute needs settling: “{exchange.listing.title}”",
            body=reason,
            url=f"/exchanges/{exchange.pk}/",
        )


def _memo(exchange: Exchange) -> str:
    return f"{exchange.listing.title} ({minutes_as_text(exchange.minutes or 0)})"[:500]


def local_transfer_request(exchange: Exchange, *, actor: Member | None) -> TransferRequest:
    """The ledger transfer that pays for an exchange between two members of this network."""
    minutes = exchange.minutes or 0
    if exchange.giver is None or exchange.receiver is None:
        raise ValueError("an exchange with a partner network's member pays through federation")
    return TransferRequest(
        idempotency_key=exchange.ledger_key,
        legs=[
            Leg(member_account(exchange.receiver), -minutes),
            Leg(member_account(exchange.giver), minutes),
        ],
        kind=Transfer.Kind.EXCHANGE,
        memo=_memo(exchange),
        actor=actor,
    )


def exchange_credit_move(exchange: Exchange, *, actor: Member | None) -> None:
    """Move the credit and mark the exchange complete (inside the caller's transaction)."""
    minutes = exchange.minutes or 0
    memo = _memo(exchange)
    if exchange.giver is not None and exchange.receiver is not None:
        request = local_transfer_request(exchange, actor=actor)
        transfer_create(
            idempotency_key=request.idempotency_key,
            legs=request.legs,
            kind=request.kind,
            memo=request.memo,
            actor=actor,
        )
    else:
        # One side is a member of a partner network: the receiver's network pays the
        # giver's through the federation ledger.
        here = network_current()
        remote = Network.objects.get(pk=exchange.remote_network_id)
        remote_side = (remote, exchange.remote_member_id)
        local_side = (here, exchange.giver_id or exchange.receiver_id)
        (payer, payer_id), (payee, payee_id) = (
            (remote_side, local_side) if exchange.receiver_id is None else (local_side, remote_side)
        )
        federated_transfer_create(
            idempotency_key=f"{here.schema_name}:{exchange.ledger_key}",
            payer_network=payer,
            payer_member_id=int(payer_id or 0),
            payee_network=payee,
            payee_member_id=int(payee_id or 0),
            minutes=minutes,
            memo=memo,
            actor=actor,
        )
    exchange_completion_record(exchange)


def exchange_completion_record(exchange: Exchange) -> None:
    """The exchange's credit has moved: mark it complete and tell the giver (inside the
    caller's transaction)."""
    minutes = exchange.minutes or 0
    exchange.state = State.COMPLETED
    exchange.completed_at = timezone.now()
    exchange.save()
    notify(
        exchange,
        Side.GIVER,
        kind=Kind.HOURS_CONFIRMED,
        event="completed",
        title=f"{minutes_as_text(minutes)} confirmed: you earned "
        f"{minutes_as_text(minutes)} of credit",
        body=exchange.listing.title
        + (
            gettext(
                ". It is in your CPD record now: reflect on it, or share a story of what "
                "changed, from the exchange's page."
            )
            if exchange.giver_id is not None
            else ""
        ),
    )
    refresh_insights_after_commit(exchange)


def exchange_credit_move_for_receiver(exchange: Exchange, *, actor: Member | None) -> None:
    """`exchange_credit_move`, by someone other than the person helped (an organiser, or beat
    auto-confirming): a shortfall names whose balance is short, not "you"."""
    try:
        exchange_credit_move(exchange, actor=actor)
    except InsufficientCredit as short:
        raise receiver_short(exchange, short) from None


def receiver_short(exchange: Exchange, short: InsufficientCredit) -> ExchangeRefused:
    """The refusal naming whose balance is short, for someone other than the receiver."""
    available = max(short.extra["balance"] - short.extra["floor"], 0)
    return ExchangeRefused(
        _(
            "%(name)s has %(left)s of credit, less than the "
            "%(minutes)s to pay. Adjust the hours to what they can pay, or cancel."
        )
        % {
            "name": exchange.receiver_name,
            "left": minutes_as_text(available),
            "minutes": minutes_as_text(exchange.minutes or 0),
        },
        balance=available,
        needed=exchange.minutes,
    )


@durable_service
def exchange_settle(
    *, actor: Member, exchange: Exchange, outcome: str, minutes: int | None = None, note: str = ""
) -> Exchange:
    """An organiser settles a dispute: confirm the recorded hours, adjust them, or cancel
    (nothing moves). Audited, with the organiser's note."""
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied(_("Only organisers can settle disputes."))
    note = clean_text(note, name="note", limit=1000)
    if outcome not in {"confirm", "adjust", "cancel"}:
        raise ExchangeRefused(_("Choose confirm, adjust or cancel."), field="outcome")
    if outcome == "adjust":
        minutes = minutes_check(minutes or 0)
    exchange = locked(exchange.pk)
    if exchange.state != State.DISPUTED:
        raise ExchangeRefused(
            _("Only disputed exchanges are settled; this one is %(state)s.")
            % {"state": State(exchange.state).label.lower()},
            state=exchange.state,
        )
    before = {"state": exchange.state, "minutes": exchange.minutes}
    organiser_message_write(exchange, actor, f"Settled ({outcome}): {note}")
    if outcome == "cancel":
        exchange.state = State.CANCELLED
        exchange.save(update_fields=["state", "updated_at"])
    else:
        if outcome == "adjust":
            exchange.minutes = minutes
        exchange_credit_move_for_receiver(exchange, actor=actor)
    audit_record(
        actor=actor,
        verb=f"exchange.settle.{outcome}",
        target=exchange,
        before=before,
        after={"state": exchange.state, "minutes": exchange.minutes},
        reason=note,
    )
    for side in (Side.GIVER, Side.RECEIVER):
        notify(
            exchange,
            side,
            kind=Kind.DISPUTE,
            event="settled",
            title=f"An organiser settled the dispute about “{exchange.listing.title}”",
            body=note,
        )
    return exchange


@durable_service
def exchange_cancel(
    *, actor: Member, exchange: Exchange, reason: str = "", actor_network: Network | None = None
) -> Exchange:
    """Either side may cancel before hours are recorded; after that only the giver may
    (waiving the credit) — the person helped confirms or disputes instead. Nothing moves."""
    reason = clean_text(reason, name="reason", limit=1000, required=False)
    exchange = locked(exchange.pk)
    side = require_move(exchange, "cancel", actor, actor_network)
    # An arranged meeting leaves the calendars it was sent to: METHOD:CANCEL, one higher.
    arranged = exchange.state == State.SCHEDULED and exchange.meeting_at is not None
    exchange.state = State.CANCELLED
    if arranged:
        exchange.meeting_sequence += 1
    exchange.save(update_fields=["state", "meeting_sequence", "updated_at"])
    exchange.proposals.filter(status=Proposal.Status.OPEN).update(status=Proposal.Status.SUPERSEDED)
    if reason:
        message_write(exchange, side, actor, actor_network, f"Cancelled: {reason}")
    title = (
        f"{display_name(actor, actor_network)} cancelled the exchange about "
        f"“{exchange.listing.title}”"
    )
    notify(
        exchange,
        other_side(side),
        kind=Kind.RESPONSE_DECLINED,
        event="cancelled",
        title=title,
        body=reason,
        calendar=invite_for(exchange, cancelled=True) if arranged else None,
    )
    if arranged:
        notify(
            exchange,
            side,
            kind=Kind.MEETING_PROPOSED,
            event="cancelled",
            title=f"Cancelled: the meeting about “{exchange.listing.title}”",
            body=reason,
            calendar=invite_for(exchange, cancelled=True),
        )
    return exchange

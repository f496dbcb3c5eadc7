"""The exchange lifecycle: respond, accept or decline, agree a time, record hours, confirm
or dispute, settle. Credit moves once, on completion, through the ledger.

Each service locks the exchange row (`SELECT ... FOR UPDATE`) before checking its state,
so two clicks at the same moment run one after the other and the second is refused as an
illegal move. Completion posts one ledger transfer keyed `exchange:<id>:complete`, so even
a retried request cannot move credit twice.

A member of a partner network acts on an exchange hosted here through the same services:
the view enters this network's schema and passes `actor_network`, their own network.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from enum import StrEnum

from django.db import transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django_tenants.utils import tenant_context

from core.audit.services import audit_record
from core.insights.tasks import network_metrics_request
from core.listings.models import Listing
from core.members.models import Member, MemberState, Role
from core.notifications.models import Kind
from core.notifications.services import notification_send
from hexitime.db import connection
from hexitime.errors import ApplicationError, NotFound, PermissionDenied
from ledger.federation.models import RemoteExchange
from ledger.federation.selectors import federation_partners
from ledger.federation.services import federated_transfer_create
from ledger.models import Transfer
from ledger.services import Leg, member_account, minutes_as_text, transfer_create
from tenants.models import Network

from .models import (
    FINAL_STATES,
    MAX_MINUTES,
    MINUTES_STEP,
    Exchange,
    ExchangeSettings,
    Message,
    Proposal,
    State,
    Thanks,
)


class Side(StrEnum):
    GIVER = "giver"
    RECEIVER = "receiver"


class ExchangeRefused(ApplicationError):
    """The move is not allowed now (wrong state, wrong person or bad input)."""

    status_code = 409


def _other(side: Side) -> Side:
    return Side.RECEIVER if side == Side.GIVER else Side.GIVER


def side_of(
    exchange: Exchange, member: Member, member_network: Network | None = None
) -> Side | None:
    """Which side `member` is on, or None. `member_network` is the member's own network
    when it is not the one hosting the exchange."""
    here = connection.tenant
    if member_network is None or member_network.pk == here.pk:
        if exchange.giver_id == member.pk:
            return Side.GIVER
        if exchange.receiver_id == member.pk:
            return Side.RECEIVER
        return None
    if (exchange.remote_network_id, exchange.remote_member_id) == (member_network.pk, member.pk):
        return Side.RECEIVER if exchange.receiver_id is None else Side.GIVER
    return None


def owner_side(exchange: Exchange) -> Side:
    """The listing's owner gives help on an offer and receives it on a request."""
    return Side.GIVER if exchange.listing.kind == Listing.Kind.OFFER else Side.RECEIVER


def access_exchange(
    exchange_id: int, *, member: Member, member_network: Network | None = None
) -> Exchange:
    """An exchange the member may see: one they take part in, or, for an organiser of this
    network, one that has been disputed (its thread is private to the two sides until
    then). Anything else is not found."""
    exchange = (
        Exchange.objects.select_related("listing", "giver", "receiver")
        .filter(pk=exchange_id)
        .first()
    )
    if exchange is None:
        raise NotFound("No such exchange.")
    if side_of(exchange, member, member_network) is not None:
        return exchange
    if (
        member_network is None
        and exchange.dispute_reason
        and member.has_perm("exchanges.settle_dispute")
    ):
        return exchange
    raise NotFound("No such exchange.")


def _locked(exchange: Exchange) -> Exchange:
    return (
        Exchange.objects.select_for_update(of=("self",))
        .select_related("listing", "giver", "receiver")
        .get(pk=exchange.pk)
    )


def _require(
    exchange: Exchange, states: Iterable[State], actor: Member, actor_network: Network | None,
    sides: Iterable[Side], doing: str,
) -> Side:  # fmt: skip
    """The actor's side, if they may do this now; otherwise a clear refusal."""
    side = side_of(exchange, actor, actor_network)
    if side is None:
        raise NotFound("No such exchange.")
    if side not in set(sides):
        who = " or ".join("the person giving help" if s == Side.GIVER
                          else "the person receiving help" for s in sides)  # fmt: skip
        raise PermissionDenied(f"Only {who} can {doing}.")
    if exchange.state not in set(states):
        raise ExchangeRefused(
            f"You cannot {doing} now: this exchange is "
            f"{State(exchange.state).label.lower()}.", state=exchange.state,
        )  # fmt: skip
    return side


def _text(value: str, *, name: str, limit: int, required: bool = True) -> str:
    value = strip_tags(value or "").strip()
    if required and not value:
        raise ExchangeRefused(f"Please write a {name}.", field=name)
    if len(value) > limit:
        raise ExchangeRefused(
            f"The {name} is {len(value):,} characters long; the limit is {limit:,}.", field=name
        )
    return value


def _name(member: Member, network: Network | None) -> str:
    here = connection.tenant
    if network is None or network.pk == here.pk:
        return member.full_name
    return f"{member.full_name} ({network.name})"


# Responding ---------------------------------------------------------------------------


def exchange_respond(
    *, actor: Member, listing: Listing, message: str, actor_network: Network | None = None
) -> Exchange:
    """Answer a listing with a message, opening an exchange with its owner.

    Refused for one's own listing, for a listing that is not open, for a member who has
    not finished joining, and while the member already has an unfinished exchange on the
    same listing. A member of another network may answer only a listing shared with
    partner networks, and only when the two networks exchange with each other.
    """
    body = _text(message, name="message", limit=4000)
    if not actor.can_transact:
        raise PermissionDenied("Confirm your email address (and wait for approval, if your "
                               "network asks for it) before responding.")  # fmt: skip
    here = connection.tenant
    guest = actor_network if actor_network is not None and actor_network.pk != here.pk else None
    with transaction.atomic(durable=True):
        # Lock the listing: two responses from the same member queue here.
        listing = Listing.objects.select_for_update().select_related("owner").get(pk=listing.pk)
        if listing.status != Listing.Status.OPEN or listing.hidden_reason:
            raise ExchangeRefused("This listing is not open for responses.")
        owner_gives = listing.kind == Listing.Kind.OFFER
        owner_side_name = "giver" if owner_gives else "receiver"
        if guest is None:
            if listing.owner_id == actor.pk:
                raise ExchangeRefused("This is your own listing.")
            sides = {owner_side_name: listing.owner,
                     "receiver" if owner_gives else "giver": actor}  # fmt: skip
            existing = Exchange.objects.filter(listing=listing, **sides)
        else:
            if listing.visibility != Listing.Visibility.PARTNERS:
                raise NotFound("No such listing.")
            if not federation_partners(here, guest):
                raise ExchangeRefused(
                    f"{here.name} and {guest.name} do not exchange time with each other."
                )
            sides = {owner_side_name: listing.owner}
            existing = Exchange.objects.filter(
                listing=listing, remote_network_id=guest.pk, remote_member_id=actor.pk
            )
        if existing.exclude(state__in=FINAL_STATES).exists():
            raise ExchangeRefused("You already have an exchange in progress on this listing.")
        exchange = Exchange(listing=listing, **sides)
        if guest is not None:
            exchange.remote_network_id = guest.pk
            exchange.remote_member_id = actor.pk
            exchange.remote_name = _name(actor, guest)
        exchange.save()
        responder = Side.RECEIVER if owner_gives else Side.GIVER
        Message.objects.create(
            exchange=exchange, side=responder, author_name=_name(actor, guest), body=body
        )
        if guest is not None:
            RemoteExchange.objects.create(
                host_network=here, exchange_id=exchange.pk,
                guest_network=guest, guest_member_id=actor.pk,
            )  # fmt: skip
        _notify(exchange, _other(responder), kind=Kind.RESPONSE_RECEIVED, event="responded",
                title=f"{_name(actor, guest)} responded to “{listing.title}”",
                body=body)  # fmt: skip
    return exchange


def exchange_accept(
    *, actor: Member, exchange: Exchange, actor_network: Network | None = None
) -> Exchange:
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        _require(exchange, [State.RESPONDED], actor, actor_network, [owner_side(exchange)],
                 "accept this response")  # fmt: skip
        exchange.state = State.ACCEPTED
        exchange.save(update_fields=["state", "updated_at"])
        _notify(exchange, _other(owner_side(exchange)), kind=Kind.RESPONSE_ACCEPTED,
                event="accepted", title=f"Your response to “{exchange.listing.title}” was "
                "accepted: suggest a time to meet")  # fmt: skip
    return exchange


def exchange_decline(
    *, actor: Member, exchange: Exchange, reason: str = "", actor_network: Network | None = None
) -> Exchange:
    reason = _text(reason, name="reason", limit=1000, required=False)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        side = _require(exchange, [State.RESPONDED], actor, actor_network, [owner_side(exchange)],
                        "decline this response")  # fmt: skip
        exchange.state = State.DECLINED
        exchange.save(update_fields=["state", "updated_at"])
        if reason:
            _message(exchange, side, actor, actor_network, reason)
        _notify(exchange, _other(side), kind=Kind.RESPONSE_DECLINED, event="declined",
                title=f"Your response to “{exchange.listing.title}” was declined",
                body=reason)  # fmt: skip
    return exchange


# Agreeing a time ------------------------------------------------------------------------


def exchange_propose(
    *, actor: Member, exchange: Exchange, starts_at: datetime.datetime, place: str,
    actor_network: Network | None = None,
) -> Proposal:  # fmt: skip
    """Suggest a time and place (or video link). A suggestion replaces any unanswered one;
    the other side accepts it or makes their own (a counter-proposal)."""
    place = _text(place, name="place", limit=300)
    if timezone.is_naive(starts_at):
        raise ExchangeRefused("Give the time with its time zone.", field="starts_at")
    if starts_at <= timezone.now():
        raise ExchangeRefused("Suggest a time in the future.", field="starts_at")
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        side = _require(exchange, [State.ACCEPTED, State.SCHEDULED], actor, actor_network,
                        [Side.GIVER, Side.RECEIVER], "suggest a time")  # fmt: skip
        exchange.proposals.filter(status=Proposal.Status.OPEN).update(
            status=Proposal.Status.SUPERSEDED
        )
        proposal = Proposal.objects.create(
            exchange=exchange, proposed_by=side, starts_at=starts_at, place=place
        )
        exchange.save(update_fields=["updated_at"])
        when = timezone.localtime(starts_at).strftime("%A %-d %B at %H:%M")
        _notify(exchange, _other(side), kind=Kind.MEETING_PROPOSED,
                event=f"proposal:{proposal.pk}",
                title=f"{_name(actor, actor_network)} suggested {when}", body=place)  # fmt: skip
    return proposal


def exchange_agree(
    *, actor: Member, exchange: Exchange, proposal_id: int, actor_network: Network | None = None
) -> Exchange:
    """Accept the other side's suggestion: the meeting is arranged."""
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        side = _require(exchange, [State.ACCEPTED, State.SCHEDULED], actor, actor_network,
                        [Side.GIVER, Side.RECEIVER], "agree a time")  # fmt: skip
        proposal = exchange.proposals.filter(pk=proposal_id, status=Proposal.Status.OPEN).first()
        if proposal is None:
            raise ExchangeRefused("That suggestion has been replaced or answered already.")
        if proposal.proposed_by == side:
            raise ExchangeRefused("Wait for the other person to answer your suggestion.")
        proposal.status = Proposal.Status.ACCEPTED
        proposal.save(update_fields=["status"])
        exchange.state = State.SCHEDULED
        exchange.meeting_at = proposal.starts_at
        exchange.meeting_place = proposal.place
        exchange.reminded_at = None
        exchange.save()
        when = timezone.localtime(proposal.starts_at).strftime("%A %-d %B at %H:%M")
        _notify(exchange, _other(side), kind=Kind.MEETING_PROPOSED,
                event=f"agreed:{proposal.pk}", title=f"Meeting arranged for {when}",
                body=proposal.place)  # fmt: skip
    return exchange


# Hours and credit -------------------------------------------------------------------------


def _check_minutes(minutes: int) -> int:
    if not isinstance(minutes, int) or minutes < MINUTES_STEP or minutes > MAX_MINUTES:
        raise ExchangeRefused(
            f"Record between {minutes_as_text(MINUTES_STEP)} and {minutes_as_text(MAX_MINUTES)}.",
            field="minutes",
        )
    if minutes % MINUTES_STEP:
        raise ExchangeRefused("Record the time in steps of 15 minutes.", field="minutes")
    return minutes


def exchange_record_hours(
    *, actor: Member, exchange: Exchange, minutes: int, actor_network: Network | None = None
) -> Exchange:
    """The person who gave help records how long it took (15-minute steps); the person
    helped is asked to confirm. The giver may correct the figure until it is confirmed."""
    minutes = _check_minutes(minutes)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        _require(exchange, [State.ACCEPTED, State.SCHEDULED, State.RECORDED], actor, actor_network,
                 [Side.GIVER], "record the hours")  # fmt: skip
        exchange.state = State.RECORDED
        exchange.minutes = minutes
        exchange.recorded_at = timezone.now()
        exchange.save()
        days = exchange_settings().auto_confirm_days
        _notify(exchange, Side.RECEIVER, kind=Kind.CONFIRM_HOURS,
                event=f"recorded:{exchange.recorded_at.timestamp()}",
                title=f"Please confirm {minutes_as_text(minutes)} for “{exchange.listing.title}”",
                body=f"{exchange.giver_name if exchange.giver_id else exchange.remote_name} "
                f"recorded {minutes_as_text(minutes)}. Confirm it, or say what is wrong. "
                f"If you do neither, it is confirmed automatically after {days} days.")  # fmt: skip
    return exchange


def exchange_confirm(
    *, actor: Member, exchange: Exchange, actor_network: Network | None = None
) -> Exchange:
    """The person helped confirms the hours: the ledger moves the minutes from them to the
    person who helped, once. Refused, with nothing moved, when they lack the credit."""
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        _require(exchange, [State.RECORDED], actor, actor_network, [Side.RECEIVER],
                 "confirm the hours")  # fmt: skip
        _complete(exchange, actor=actor)
    return exchange


def exchange_dispute(
    *, actor: Member, exchange: Exchange, reason: str, actor_network: Network | None = None
) -> Exchange:
    """The person helped disagrees with the hours: an organiser settles it."""
    reason = _text(reason, name="reason", limit=1000)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        side = _require(exchange, [State.RECORDED], actor, actor_network, [Side.RECEIVER],
                        "dispute the hours")  # fmt: skip
        _to_dispute(exchange, reason)
        _message(exchange, side, actor, actor_network, f"Disputed: {reason}")
        _notify(
            exchange,
            Side.GIVER,
            kind=Kind.DISPUTE,
            event="disputed",
            title=f"The hours for “{exchange.listing.title}” were disputed",
            body=reason,
        )
    return exchange


def _to_dispute(exchange: Exchange, reason: str) -> None:
    exchange.state = State.DISPUTED
    exchange.dispute_reason = reason
    exchange.save(update_fields=["state", "dispute_reason", "updated_at"])
    for organiser in Member.objects.filter(role=Role.ORGANISER, state=MemberState.ACTIVE):
        notification_send(
            recipient=organiser, kind=Kind.DISPUTE,
            key=f"exchange:{exchange.pk}:disputed:organiser:{organiser.pk}",
            title=f"A dispute needs settling: “{exchange.listing.title}”", body=reason,
            url=f"/exchanges/{exchange.pk}/",
        )  # fmt: skip


def _complete(exchange: Exchange, *, actor: Member | None) -> None:
    """Move the credit and mark the exchange complete (inside the caller's transaction)."""
    minutes = exchange.minutes or 0
    memo = f"{exchange.listing.title} ({minutes_as_text(minutes)})"[:500]
    if exchange.giver is not None and exchange.receiver is not None:
        transfer_create(
            idempotency_key=exchange.ledger_key,
            legs=[Leg(member_account(exchange.receiver), -minutes),
                  Leg(member_account(exchange.giver), minutes)],
            kind=Transfer.Kind.EXCHANGE, memo=memo, actor=actor,
        )  # fmt: skip
    else:
        # One side is a member of a partner network: the receiver's network pays the
        # giver's through the federation ledger.
        here = connection.tenant
        remote = Network.objects.get(pk=exchange.remote_network_id)
        remote_side = (remote, exchange.remote_member_id)
        local_side = (here, exchange.giver_id or exchange.receiver_id)
        (payer, payer_id), (payee, payee_id) = (
            (remote_side, local_side) if exchange.receiver_id is None
            else (local_side, remote_side)
        )  # fmt: skip
        federated_transfer_create(
            idempotency_key=f"{here.schema_name}:{exchange.ledger_key}",
            payer_network=payer, payer_member_id=int(payer_id or 0),
            payee_network=payee, payee_member_id=int(payee_id or 0),
            minutes=minutes, memo=memo, actor=actor,
        )  # fmt: skip
    exchange.state = State.COMPLETED
    exchange.completed_at = timezone.now()
    exchange.save()
    _notify(exchange, Side.GIVER, kind=Kind.HOURS_CONFIRMED, event="completed",
            title=f"{minutes_as_text(minutes)} confirmed: you earned "
            f"{minutes_as_text(minutes)} of credit", body=exchange.listing.title)  # fmt: skip
    _refresh_insights_after_commit()


def exchange_settle(
    *, actor: Member, exchange: Exchange, outcome: str, minutes: int | None = None, note: str = ""
) -> Exchange:
    """An organiser settles a dispute: confirm the recorded hours, adjust them, or cancel
    (nothing moves). Audited, with the organiser's note."""
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied("Only organisers can settle disputes.")
    note = _text(note, name="note", limit=1000)
    if outcome not in {"confirm", "adjust", "cancel"}:
        raise ExchangeRefused("Choose confirm, adjust or cancel.", field="outcome")
    if outcome == "adjust":
        minutes = _check_minutes(minutes or 0)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        if exchange.state != State.DISPUTED:
            raise ExchangeRefused(
                f"Only disputed exchanges are settled; this one is "
                f"{State(exchange.state).label.lower()}.", state=exchange.state,
            )  # fmt: skip
        before = {"state": exchange.state, "minutes": exchange.minutes}
        Message.objects.create(exchange=exchange, side="organiser",
                               author_name=f"{actor.full_name} (organiser)",
                               body=f"Settled ({outcome}): {note}")  # fmt: skip
        if outcome == "cancel":
            exchange.state = State.CANCELLED
            exchange.save(update_fields=["state", "updated_at"])
        else:
            if outcome == "adjust":
                exchange.minutes = minutes
            _complete(exchange, actor=actor)
        audit_record(actor=actor, verb=f"exchange.settle.{outcome}", target=exchange,
                     before=before, after={"state": exchange.state, "minutes": exchange.minutes},
                     reason=note)  # fmt: skip
        for side in (Side.GIVER, Side.RECEIVER):
            _notify(exchange, side, kind=Kind.DISPUTE, event="settled",
                    title=f"An organiser settled the dispute about “{exchange.listing.title}”",
                    body=note)  # fmt: skip
    return exchange


def exchange_cancel(
    *, actor: Member, exchange: Exchange, reason: str = "", actor_network: Network | None = None
) -> Exchange:
    """Either side may cancel before hours are recorded; after that only the giver may
    (waiving the credit) — the person helped confirms or disputes instead. Nothing moves."""
    reason = _text(reason, name="reason", limit=1000, required=False)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        allowed = [Side.GIVER] if exchange.state == State.RECORDED else [Side.GIVER, Side.RECEIVER]
        open_states = [State.RESPONDED, State.ACCEPTED, State.SCHEDULED, State.RECORDED]
        side = _require(exchange, open_states, actor, actor_network, allowed,
                        "cancel this exchange")  # fmt: skip
        exchange.state = State.CANCELLED
        exchange.save(update_fields=["state", "updated_at"])
        exchange.proposals.filter(status=Proposal.Status.OPEN).update(
            status=Proposal.Status.SUPERSEDED
        )
        if reason:
            _message(exchange, side, actor, actor_network, f"Cancelled: {reason}")
        _notify(exchange, _other(side), kind=Kind.RESPONSE_DECLINED, event="cancelled",
                title=f"{_name(actor, actor_network)} cancelled the exchange about "
                f"“{exchange.listing.title}”", body=reason)  # fmt: skip
    return exchange


# Messages and thanks ------------------------------------------------------------------------


def _message(
    exchange: Exchange, side: Side, actor: Member, actor_network: Network | None, body: str
) -> Message:
    return Message.objects.create(
        exchange=exchange, side=side, author_name=_name(actor, actor_network), body=body
    )


def message_post(
    *, actor: Member, exchange: Exchange, body: str, actor_network: Network | None = None
) -> Message:
    """Write in the exchange's thread: its two sides, and organisers once it is disputed."""
    body = _text(body, name="message", limit=4000)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        side = side_of(exchange, actor, actor_network)
        if side is None:
            if (
                actor_network is None
                and actor.has_perm("exchanges.settle_dispute")
                and (exchange.state == State.DISPUTED)
            ):
                return Message.objects.create(
                    exchange=exchange, side="organiser",
                    author_name=f"{actor.full_name} (organiser)", body=body,
                )  # fmt: skip
            raise NotFound("No such exchange.")
        message = _message(exchange, side, actor, actor_network, body)
        _notify(exchange, _other(side), kind=Kind.EXCHANGE_MESSAGE,
                event=f"message:{message.pk}",
                title=f"New message from {message.author_name}", body=body[:500])  # fmt: skip
    return message


def thanks_give(
    *, actor: Member, exchange: Exchange, text: str, actor_network: Network | None = None
) -> Thanks:
    """After completion, each side may thank the other once; it shows on their profile."""
    text = _text(text, name="thank-you", limit=500)
    with transaction.atomic(durable=True):
        exchange = _locked(exchange)
        side = _require(exchange, [State.COMPLETED], actor, actor_network,
                        [Side.GIVER, Side.RECEIVER], "say thank you")  # fmt: skip
        if exchange.thanks.filter(side=side).exists():
            raise ExchangeRefused("You have already said thank you for this exchange.")
        recipient = exchange.receiver if side == Side.GIVER else exchange.giver
        return Thanks.objects.create(
            exchange=exchange, side=side, author_name=_name(actor, actor_network),
            recipient=recipient, text=text,
        )  # fmt: skip


# Settings and scheduled work -------------------------------------------------------------


def exchange_settings() -> ExchangeSettings:
    settings, _ = ExchangeSettings.objects.get_or_create(pk=1)
    return settings


def exchange_settings_update(*, actor: Member, auto_confirm_days: int) -> ExchangeSettings:
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied("Only organisers can change the exchange rules.")
    if not isinstance(auto_confirm_days, int) or not 1 <= auto_confirm_days <= 60:
        raise ExchangeRefused("Choose between 1 and 60 days.", field="auto_confirm_days")
    with transaction.atomic(durable=True):
        settings = ExchangeSettings.objects.select_for_update().get_or_create(pk=1)[0]
        before = {"auto_confirm_days": settings.auto_confirm_days}
        settings.auto_confirm_days = auto_confirm_days
        settings.save()
        audit_record(actor=actor, verb="exchange.settings", target=settings, before=before,
                     after={"auto_confirm_days": auto_confirm_days})  # fmt: skip
    return settings


def exchanges_auto_confirm(*, now: datetime.datetime | None = None) -> int:
    """Confirm hours left unanswered for the network's set number of days. One transaction
    per exchange; one that cannot be paid (the receiver lacks the credit) goes to an
    organiser as a dispute instead. Returns how many completed."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=exchange_settings().auto_confirm_days)
    due = Exchange.objects.filter(state=State.RECORDED, recorded_at__lte=cutoff).values_list(
        "pk", flat=True
    )
    completed = 0
    for exchange_id in list(due):
        with transaction.atomic(durable=True):
            exchange = Exchange.objects.select_for_update(of=("self",)).select_related(
                "listing", "giver", "receiver").filter(pk=exchange_id).first()  # fmt: skip
            if exchange is None or exchange.state != State.RECORDED:
                continue  # confirmed or disputed meanwhile
            try:
                with transaction.atomic():
                    _complete(exchange, actor=None)
                completed += 1
            except ApplicationError as refusal:
                exchange.refresh_from_db()
                _to_dispute(exchange, f"Automatic confirmation failed: {refusal.message}")
    return completed


def exchanges_remind_meetings(*, now: datetime.datetime | None = None) -> int:
    """Remind both sides of a meeting in the next 24 hours, once per arranged time."""
    now = now or timezone.now()
    due = Exchange.objects.filter(
        state=State.SCHEDULED, reminded_at__isnull=True,
        meeting_at__gt=now, meeting_at__lte=now + datetime.timedelta(hours=24),
    ).values_list("pk", flat=True)  # fmt: skip
    sent = 0
    for exchange_id in list(due):
        with transaction.atomic(durable=True):
            exchange = Exchange.objects.select_for_update(of=("self",)).select_related(
                "listing", "giver", "receiver").get(pk=exchange_id)  # fmt: skip
            if exchange.reminded_at is not None or exchange.meeting_at is None:
                continue
            when = timezone.localtime(exchange.meeting_at).strftime("%A %-d %B at %H:%M")
            for side in (Side.GIVER, Side.RECEIVER):
                _notify(exchange, side, kind=Kind.MEETING_REMINDER,
                        event=f"reminder:{exchange.meeting_at.timestamp()}",
                        title=f"Reminder: “{exchange.listing.title}” on {when}",
                        body=exchange.meeting_place)  # fmt: skip
            exchange.reminded_at = now
            exchange.save(update_fields=["reminded_at"])
            sent += 1
    return sent


# Notifications ----------------------------------------------------------------------------


def _notify(
    exchange: Exchange, side: Side, *, kind: Kind, event: str, title: str, body: str = ""
) -> None:
    """Notify one side, in their own network when they are a member of another."""
    key = f"exchange:{exchange.pk}:{event}:{side}"
    member = exchange.giver if side == Side.GIVER else exchange.receiver
    if member is not None:
        notification_send(recipient=member, kind=kind, key=key, title=title[:200], body=body,
                          url=f"/exchanges/{exchange.pk}/")  # fmt: skip
        return
    here = connection.tenant
    remote = Network.objects.get(pk=exchange.remote_network_id)
    with tenant_context(remote):
        recipient = Member.objects.filter(pk=exchange.remote_member_id or 0, is_active=True).first()
        if recipient is not None:
            notification_send(
                recipient=recipient, kind=kind, key=f"{here.schema_name}:{key}",
                title=title[:200], body=body, url=f"/exchanges/partner/{here.slug}/{exchange.pk}/",
            )  # fmt: skip


def _refresh_insights_after_commit() -> None:
    """The map and metrics change: ask for a refresh once this transaction has committed
    (asking earlier would mark one pending for a change that may yet roll back)."""
    schema_name = connection.schema_name
    transaction.on_commit(lambda: network_metrics_request(schema_name))


# Partner networks --------------------------------------------------------------------------


def access_partner_network(slug: str, *, network: Network) -> Network:
    """A network that exchanges time with `network`, by its slug. Any other, like one
    that does not exist, is not found: nothing about non-partners leaks."""
    host = Network.objects.filter(slug=slug, status=Network.Status.ACTIVE).first()
    if host is None or host.pk == network.pk or not federation_partners(network, host):
        raise NotFound("No such network.")
    return host


def access_partner_exchange(
    slug: str, exchange_id: int, *, member: Member, network: Network
) -> tuple[Network, Exchange]:
    """An exchange hosted by a partner network in which `member` of `network` takes part,
    read inside the host's schema. Returns the host and the exchange."""
    host = access_partner_network(slug, network=network)
    linked = RemoteExchange.objects.filter(
        host_network=host, exchange_id=exchange_id, guest_network=network,
        guest_member_id=member.pk,
    ).exists()  # fmt: skip
    if not linked:
        raise NotFound("No such exchange.")
    with tenant_context(host):
        return host, access_exchange(exchange_id, member=member, member_network=network)

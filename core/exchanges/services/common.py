"""What every exchange service shares: sides, refusals, locking the row, checking a
move is allowed, clean text, and notifying a side (in their own network when they are a
member of a partner network)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import tenant_context

from core.exchanges.models import Exchange, Message, State
from core.listings.models import Listing
from core.members.models import Member
from core.members.selectors import members_blocked_between
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import connection
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.tasks import task_send_on_commit
from kernel.text import plain_text
from tenants.models import Network
from tenants.selectors import network_current

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Side(StrEnum):
    GIVER = "giver"
    RECEIVER = "receiver"


class ExchangeRefused(ApplicationError):
    """The move is not allowed now (wrong state, wrong person or bad input)."""

    status_code = 409


def other_side(side: Side) -> Side:
    return Side.RECEIVER if side == Side.GIVER else Side.GIVER


def guest_network(network: Network | None) -> Network | None:
    """`network` when it is another network than the one hosting the exchange, else None."""
    return network if network is not None and network.pk != network_current().pk else None


def side_of(
    exchange: Exchange, member: Member, member_network: Network | None = None
) -> Side | None:
    """Which side `member` is on, or None. `member_network` is the member's own network
    when it is not the one hosting the exchange."""
    guest = guest_network(member_network)
    if guest is None:
        if exchange.giver_id == member.pk:
            return Side.GIVER
        if exchange.receiver_id == member.pk:
            return Side.RECEIVER
        return None
    if (exchange.remote_network_id, exchange.remote_member_id) == (guest.pk, member.pk):
        return Side.RECEIVER if exchange.receiver_id is None else Side.GIVER
    return None


def owner_side(exchange: Exchange) -> Side:
    """The listing's owner gives help on an offer and receives it on a request."""
    return Side.GIVER if exchange.listing.kind == Listing.Kind.OFFER else Side.RECEIVER


def locked(exchange_id: int) -> Exchange:
    return (
        Exchange.objects.select_for_update(of=("self",))
        .select_related("listing", "giver", "receiver")
        .get(pk=exchange_id)
    )


BOTH = (Side.GIVER, Side.RECEIVER)


def before_meeting(exchange: Exchange) -> str | None:
    """Why hours cannot be recorded or confirmed yet: the agreed meeting is still ahead."""
    if exchange.meeting_at is not None and exchange.meeting_at > timezone.now():
        return _("the meeting is on %(meeting)s") % {
            "meeting": meeting_time_text(exchange.meeting_at)
        }
    return None


def never(exchange: Exchange) -> str | None:
    return None


@dataclass(frozen=True)
class Move:
    """A move of the state machine: the states it starts from, who may make it, and
    (`not_yet`) why it must wait though the state allows it."""

    states: frozenset[State]
    sides: Callable[[Exchange], tuple[Side, ...]]
    doing: StrOrPromise  # for refusals: "Only ... can <doing>", "You cannot <doing> now"
    not_yet: Callable[[Exchange], str | None] = never


# The one statement of who may do what when: the services refuse by it and the pages
# offer by it. Hours are recorded and confirmed only once the agreed meeting has passed
# (an exchange that met without agreeing a time here records the day it met instead).
# Moves with more conditions (an open suggestion to agree to, thanks not yet given)
# check those themselves.
MOVES: dict[str, Move] = {
    "accept": Move(
        frozenset({State.RESPONDED}),
        lambda e: (owner_side(e),),
        gettext_lazy("accept this response"),
    ),
    "decline": Move(
        frozenset({State.RESPONDED}),
        lambda e: (owner_side(e),),
        gettext_lazy("decline this response"),
    ),
    "propose": Move(
        frozenset({State.ACCEPTED, State.SCHEDULED}), lambda e: BOTH, gettext_lazy("suggest a time")
    ),
    "agree": Move(
        frozenset({State.ACCEPTED, State.SCHEDULED}), lambda e: BOTH, gettext_lazy("agree a time")
    ),
    "record": Move(
        frozenset({State.ACCEPTED, State.SCHEDULED, State.RECORDED}),
        lambda e: (Side.GIVER,),
        gettext_lazy("record the hours"),
        before_meeting,
    ),
    "confirm": Move(
        frozenset({State.RECORDED}),
        lambda e: (Side.RECEIVER,),
        gettext_lazy("confirm the hours"),
        before_meeting,
    ),
    "dispute": Move(
        frozenset({State.RECORDED}), lambda e: (Side.RECEIVER,), gettext_lazy("dispute the hours")
    ),
    # After hours are recorded only the giver may cancel (waiving the credit): the person
    # helped confirms or disputes instead.
    "cancel": Move(
        frozenset({State.RESPONDED, State.ACCEPTED, State.SCHEDULED, State.RECORDED}),
        lambda e: (Side.GIVER,) if e.state == State.RECORDED else BOTH,
        gettext_lazy("cancel this exchange"),
    ),
    "thanks": Move(frozenset({State.COMPLETED}), lambda e: BOTH, gettext_lazy("say thank you")),
}


def move_allowed(exchange: Exchange, side: Side, move: str) -> bool:
    rule = MOVES[move]
    return (
        exchange.state in rule.states
        and side in rule.sides(exchange)
        and rule.not_yet(exchange) is None
    )


def require_move(
    exchange: Exchange, move: str, actor: Member, actor_network: Network | None
) -> Side:
    """The actor's side, if they may make this move now; otherwise a clear refusal."""
    rule = MOVES[move]
    side = side_of(exchange, actor, actor_network)
    if side is None:
        raise NotFound(_("No such exchange."))
    sides = rule.sides(exchange)
    if side not in sides:
        who = " or ".join(
            _("the person giving help") if s == Side.GIVER else _("the person receiving help")
            for s in sides
        )
        raise PermissionDenied(_("Only %(who)s can %(doing)s.") % {"who": who, "doing": rule.doing})
    if exchange.state not in rule.states:
        raise ExchangeRefused(
            _("You cannot %(doing)s now: this exchange is %(state)s.")
            % {"doing": rule.doing, "state": State(exchange.state).label.lower()},
            state=exchange.state,
        )
    if (reason := rule.not_yet(exchange)) is not None:
        raise ExchangeRefused(
            _("You cannot %(doing)s yet: %(reason)s.") % {"doing": rule.doing, "reason": reason},
            state=exchange.state,
        )
    return side


def sides_blocked(exchange: Exchange) -> bool:
    """Whether one side of the exchange blocked the other (both members here; a member of
    a partner network cannot be blocked, see docs/decisions.md), for showing the page: as
    read with the exchange when access_exchange read it, else asked now."""
    read: bool | None = getattr(exchange, "blocked_when_read", None)
    return _blocked_now(exchange) if read is None else read


def _blocked_now(exchange: Exchange) -> bool:
    return (
        exchange.giver_id is not None
        and exchange.receiver_id is not None
        and members_blocked_between(exchange.giver_id, exchange.receiver_id)
    )


def require_not_blocked(exchange: Exchange, doing: str) -> None:
    """Refuse writing to the other side (messages, suggestions, thanks) once either side
    blocked the other. The words say nothing of a block: the blocked side is not told
    why. The exchange can still be finished or cancelled. Asked of the database now,
    whatever was read with the exchange."""
    if _blocked_now(exchange):
        raise ExchangeRefused(
            _("You cannot %(doing)s in this exchange.") % {"doing": doing}, state=exchange.state
        )


# What a required text asks for when it is left empty, by its field name.
_MISSING = {
    "message": gettext_lazy("Please write a message."),
    "place": gettext_lazy("Please write a place."),
    "reason": gettext_lazy("Please write a reason."),
    "note": gettext_lazy("Please write a note."),
    "thank-you": gettext_lazy("Please write a thank-you."),
}


def clean_text(value: str, *, name: str, limit: int, required: bool = True) -> str:
    missing = str(_MISSING[name]) if required else None
    return plain_text(value, name=name, limit=limit, missing=missing, refusal=ExchangeRefused)


def display_name(member: Member, network: Network | None) -> str:
    guest = guest_network(network)
    return member.full_name if guest is None else f"{member.full_name} ({guest.name})"


def meeting_time_text(moment: datetime.datetime) -> str:
    """`Monday 30 November at 14:30`, in the network's time zone."""
    return timezone.localtime(moment).strftime("%A %-d %B at %H:%M")


def message_write(
    exchange: Exchange, side: Side, actor: Member, actor_network: Network | None, body: str
) -> Message:
    return Message.objects.create(
        exchange=exchange, side=side, author_name=display_name(actor, actor_network), body=body
    )


def organiser_message_write(exchange: Exchange, actor: Member, body: str) -> Message:
    return Message.objects.create(
        exchange=exchange,
        side="organiser",
        author_name=f"{actor.full_name} (organiser)",
        body=body,
    )


def notify(
    exchange: Exchange,
    side: Side,
    *,
    kind: Kind,
    event: str,
    title: str,
    body: str = "",
    calendar: Callable[[Member, str], str] | None = None,
) -> None:
    """Notify one side, in their own network when they are a member of another.
    `calendar` makes the invite the email carries, for the recipient and their page."""
    key = f"exchange:{exchange.pk}:{event}:{side}"
    member = exchange.giver if side == Side.GIVER else exchange.receiver
    if member is not None:
        page = f"/exchanges/{exchange.pk}/"
        notification_send(
            recipient=member,
            kind=kind,
            key=key,
            title=title[:200],
            body=body,
            url=page,
            calendar=calendar(member, page) if calendar is not None else "",
        )
        return
    here = network_current()
    remote = Network.objects.get(pk=exchange.remote_network_id)
    with tenant_context(remote):
        recipient = Member.objects.filter(pk=exchange.remote_member_id or 0, is_active=True).first()
        if recipient is not None:
            page = f"/exchanges/partner/{here.slug}/{exchange.pk}/"
            notification_send(
                recipient=recipient,
                kind=kind,
                key=f"{here.schema_name}:{key}",
                title=title[:200],
                body=body,
                url=page,
                calendar=calendar(recipient, page) if calendar is not None else "",
            )


def refresh_insights_after_commit(exchange: Exchange) -> None:
    """The map and metrics change, of the partner network too when one side is a member
    of it."""
    schemas = [connection.schema_name]
    if exchange.remote_network_id is not None:
        schemas += Network.objects.filter(pk=exchange.remote_network_id).values_list(
            "schema_name", flat=True
        )
    for schema_name in schemas:  # by name: insights sits above exchanges
        task_send_on_commit("core.insights.tasks.network_metrics_refresh", schema_name=schema_name)

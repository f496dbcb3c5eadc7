"""What every exchange service shares: sides, refusals, locking the row, checking a
move is allowed, clean text, and notifying a side (in their own network when they are a
member of a partner network)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db import transaction
from django.utils.html import strip_tags
from django_tenants.utils import tenant_context

from core.insights.tasks import network_metrics_request
from core.listings.models import Listing
from core.members.models import Member
from core.notifications.models import Kind
from core.notifications.services import notification_send
from hexitime.db import connection
from hexitime.errors import ApplicationError, NotFound, PermissionDenied
from tenants.models import Network

from ..models import (
    Exchange,
    Message,
    State,
)


class Side(StrEnum):
    GIVER = "giver"
    RECEIVER = "receiver"


class ExchangeRefused(ApplicationError):
    """The move is not allowed now (wrong state, wrong person or bad input)."""

    status_code = 409


def other_side(side: Side) -> Side:
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


def locked(exchange: Exchange) -> Exchange:
    return (
        Exchange.objects.select_for_update(of=("self",))
        .select_related("listing", "giver", "receiver")
        .get(pk=exchange.pk)
    )


def require_move(
    exchange: Exchange,
    states: Iterable[State],
    actor: Member,
    actor_network: Network | None,
    sides: Iterable[Side],
    doing: str,
) -> Side:
    """The actor's side, if they may do this now; otherwise a clear refusal."""
    side = side_of(exchange, actor, actor_network)
    if side is None:
        raise NotFound("No such exchange.")
    if side not in set(sides):
        who = " or ".join(
            "the person giving help" if s == Side.GIVER else "the person receiving help"
            for s in sides
        )
        raise PermissionDenied(f"Only {who} can {doing}.")
    if exchange.state not in set(states):
        raise ExchangeRefused(
            f"You cannot {doing} now: this exchange is {State(exchange.state).label.lower()}.",
            state=exchange.state,
        )
    return side


def clean_text(value: str, *, name: str, limit: int, required: bool = True) -> str:
    value = strip_tags(value or "").strip()
    if required and not value:
        raise ExchangeRefused(f"Please write a {name}.", field=name)
    if len(value) > limit:
        raise ExchangeRefused(
            f"The {name} is {len(value):,} characters long; the limit is {limit:,}.", field=name
        )
    return value


def display_name(member: Member, network: Network | None) -> str:
    here = connection.tenant
    if network is None or network.pk == here.pk:
        return member.full_name
    return f"{member.full_name} ({network.name})"


def post_message(
    exchange: Exchange, side: Side, actor: Member, actor_network: Network | None, body: str
) -> Message:
    return Message.objects.create(
        exchange=exchange, side=side, author_name=display_name(actor, actor_network), body=body
    )


def notify(
    exchange: Exchange, side: Side, *, kind: Kind, event: str, title: str, body: str = ""
) -> None:
    """Notify one side, in their own network when they are a member of another."""
    key = f"exchange:{exchange.pk}:{event}:{side}"
    member = exchange.giver if side == Side.GIVER else exchange.receiver
    if member is not None:
        notification_send(
            recipient=member,
            kind=kind,
            key=key,
            title=title[:200],
            body=body,
            url=f"/exchanges/{exchange.pk}/",
        )
        return
    here = connection.tenant
    remote = Network.objects.get(pk=exchange.remote_network_id)
    with tenant_context(remote):
        recipient = Member.objects.filter(pk=exchange.remote_member_id or 0, is_active=True).first()
        if recipient is not None:
            notification_send(
                recipient=recipient,
                kind=kind,
                key=f"{here.schema_name}:{key}",
                title=title[:200],
                body=body,
                url=f"/exchanges/partner/{here.slug}/{exchange.pk}/",
            )


def refresh_insights_after_commit(exchange: Exchange) -> None:
    """The map and metrics change, of the partner network too when one side is a member of
    it: ask for a refresh once this transaction has committed (asking earlier would mark one
    pending for a change that may yet roll back)."""
    schemas = [connection.schema_name]
    if exchange.remote_network_id is not None:
        schemas += Network.objects.filter(pk=exchange.remote_network_id).values_list(
            "schema_name", flat=True
        )
    transaction.on_commit(lambda: _request_refreshes(schemas))


def _request_refreshes(schemas: list[str]) -> None:
    for schema_name in schemas:
        network_metrics_request(schema_name)

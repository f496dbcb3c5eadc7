"""A member closing their account: their open exchanges end, the other side is told, and
the names stored with their messages and thanks become "A former member".

Hours the leaving member has still to confirm are confirmed, as the automatic confirmation
would do later: the person who helped is paid. An exchange an organiser is settling holds
the closure back until it is settled."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from core.exchanges.models import FINAL_STATES, Exchange, Message, Proposal, State, Thanks
from core.members.models import FORMER_MEMBER_NAME, Member
from core.notifications.models import Kind
from kernel.errors import ApplicationError
from ledger.federation.models import RemoteExchange
from tenants.models import Network

from .calendar import invite_for
from .common import ExchangeRefused, Side, locked, notify, other_side
from .lifecycle import exchange_credit_move


def exchanges_close_for_member(*, member: Member, network: Network) -> int:
    """End every unfinished exchange of `member` (of `network`, the current one), here and
    in partner networks that host exchanges with them: hours they have to confirm are
    confirmed, the rest are cancelled, the other side notified; and rename the member in
    the messages and thanks they wrote. Refused (`ExchangeRefused`) while one of them is
    disputed. Inside the caller's transaction, which rolls back whole on a refusal;
    returns how many exchanges were cancelled."""
    cancelled = 0
    local = Exchange.objects.filter(Q(giver=member) | Q(receiver=member)).order_by("pk")
    for exchange_id, giver_id in local.values_list("pk", "giver_id"):
        side = Side.GIVER if giver_id == member.pk else Side.RECEIVER
        cancelled += _cancel_and_rename(exchange_id, side, FORMER_MEMBER_NAME)
    hosted_elsewhere = RemoteExchange.objects.filter(
        guest_network=network, guest_member_id=member.pk
    ).select_related("host_network")
    for link in hosted_elsewhere.order_by("host_network_id", "exchange_id"):
        with tenant_context(link.host_network):
            exchange = Exchange.objects.filter(pk=link.exchange_id).first()
            if exchange is None:
                continue
            side = Side.GIVER if exchange.giver_id is None else Side.RECEIVER
            name = f"{FORMER_MEMBER_NAME} ({network.name})"
            cancelled += _cancel_and_rename(exchange.pk, side, name)
            Exchange.objects.filter(pk=exchange.pk).update(remote_name=name)
    return cancelled


def _cancel_and_rename(exchange_id: int, side: Side, name: str) -> int:
    """In the current schema: cancel the exchange if it is unfinished (telling the other
    side) and rename `side`'s messages and thanks. Returns 1 if it was cancelled."""
    exchange = locked(exchange_id)
    Message.objects.filter(exchange=exchange, side=side).update(author_name=name)
    Thanks.objects.filter(exchange=exchange, side=side).update(author_name=name)
    if exchange.state == State.DISPUTED:
        raise ExchangeRefused(
            _(
                "An organiser is settling a dispute about “%(title)s”. You can close your "
                "account once it is settled."
            )
            % {"title": exchange.listing.title}
        )
    if exchange.state == State.RECORDED and side == Side.RECEIVER:
        try:
            with transaction.atomic():
                exchange_credit_move(exchange, actor=None)
            return 0
        except ApplicationError:
            exchange.refresh_from_db()  # not enough credit: cancelled below
    if exchange.state in FINAL_STATES:
        return 0
    # An arranged meeting leaves the other side's calendar: METHOD:CANCEL, one higher.
    arranged = exchange.state == State.SCHEDULED and exchange.meeting_at is not None
    exchange.state = State.CANCELLED
    if arranged:
        exchange.meeting_sequence += 1
    exchange.save(update_fields=["state", "meeting_sequence", "updated_at"])
    exchange.proposals.filter(status=Proposal.Status.OPEN).update(status=Proposal.Status.SUPERSEDED)
    notify(
        exchange,
        other_side(side),
        kind=Kind.RESPONSE_DECLINED,
        event="member_closed",
        title=f"The exchange about “{exchange.listing.title}” was cancelled: the other "
        "member closed their account",
        body="Nothing was charged or paid for it.",
        calendar=invite_for(exchange, cancelled=True) if arranged else None,
    )
    return 1

"""Reading exchanges: a member's own, what waits for them, their next meetings, the
organiser's overview and export, and a member's exchanges hosted by partner networks."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from core.members.models import Member
from kernel.db import connection, instance_from_row
from kernel.errors import PermissionDenied
from ledger.federation.models import RemoteExchange
from tenants.models import Network

from .models import FINAL_STATES, Exchange, ExchangeSettings, Message, Proposal, State, Thanks
from .services import Side, exchange_settings, owner_side, side_of
from .shown import UNFINISHED_EXCHANGES, exchange_from_row


def member_exchanges(*, member: Member) -> QuerySet[Exchange]:
    """The member's exchanges in this network, most recently active first."""
    return Exchange.objects.filter(Q(giver=member) | Q(receiver=member)).shown()


def waiting_on(exchange: Exchange, side: Side, proposals: Iterable[Proposal] | None = None) -> str:
    """What, if anything, this side must do next (empty when it is the other side's turn).
    `proposals`: the exchange's, when they have been read (`exchange_thread`)."""
    state = exchange.state
    if state == State.RESPONDED and side == owner_side(exchange):
        return "Reply to this response"
    if state in (State.ACCEPTED, State.SCHEDULED):
        if proposals is None:
            proposals = exchange.proposals.all()
        open_proposals = [p for p in proposals if p.status == Proposal.Status.OPEN]
        if open_proposals and open_proposals[0].proposed_by != side:
            return "Answer the suggested time"
        if state == State.ACCEPTED and not open_proposals:
            return "Suggest a time to meet"
        if side == Side.GIVER and exchange.meeting_at and exchange.meeting_at <= timezone.now():
            return "Record the hours"
    if state == State.RECORDED and side == Side.RECEIVER:
        return "Confirm the hours"
    return ""


@dataclass(frozen=True)
class Thread:
    """What an exchange's page shows below it: its messages and the times suggested,
    oldest first, and its thanks, newest first."""

    messages: list[Message]
    proposals: list[Proposal]
    thanks: list[Thanks]


# Each reads every column of its table in its model's order, which is how from_db takes
# them (a test holds them to the models); one statement an execute, as Citus needs
# (DESIGN.md, section 8). Through the ORM the three prefetches took 1.4 ms of CPU for an
# exchange with none of them, nearly all of it building and compiling queries; these take
# 0.4.
THREAD_READS = {
    Message: """
SELECT id, exchange_id, side, author_name, body, created_at, hidden_reason
  FROM exchanges_message WHERE exchange_id = %s ORDER BY created_at, id""",
    Proposal: """
SELECT id, exchange_id, proposed_by, starts_at, place, video_link, status, created_at
  FROM exchanges_proposal WHERE exchange_id = %s ORDER BY created_at, id""",
    Thanks: """
SELECT id, exchange_id, side, author_name, recipient_id, text, created_at
  FROM exchanges_thanks WHERE exchange_id = %s ORDER BY created_at DESC, id DESC""",
}


def exchange_thread(exchange: Exchange) -> Thread:
    """The exchange's messages, proposals and thanks, with SQL written once (`THREAD_READS`)."""
    read: list[list[Any]] = []
    with connection.cursor() as cursor:
        for model, select in THREAD_READS.items():
            cursor.execute(select, [exchange.pk])
            read.append([instance_from_row(model, row) for row in cursor.fetchall()])
    messages, proposals, thanks = read
    return Thread(messages=messages, proposals=proposals, thanks=thanks)


@dataclass(frozen=True)
class Waiting:
    exchange: Exchange
    action: str


@dataclass(frozen=True)
class AtHand:
    waiting: list[Waiting]  # where it is the member's turn
    meetings: list[Exchange]  # the next agreed meetings, soonest first


def member_exchanges_unfinished(*, member: Member) -> list[Exchange]:
    """The member's exchanges neither final nor disputed, most recently active first, with
    what is shown of their listing and sides (`UNFINISHED_EXCHANGES`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            UNFINISHED_EXCHANGES,
            {"member": member.pk, "finished": [*FINAL_STATES, State.DISPUTED]},
        )
        return [exchange_from_row(row) for row in cursor.fetchall()]


def exchanges_at_hand(*, member: Member, meetings: int = 3) -> AtHand:
    """The home page's exchanges: the unfinished ones where it is the member's turn, and
    the next `meetings` agreed meetings, from one read of the member's unfinished
    exchanges (a second for their proposals, when there are any)."""
    unfinished = member_exchanges_unfinished(member=member)
    prefetch_related_objects(unfinished, "proposals")
    waiting = []
    for exchange in unfinished:
        side = side_of(exchange, member)
        action = waiting_on(exchange, side) if side else ""
        if action:
            waiting.append(Waiting(exchange, action))
    now = timezone.now()
    upcoming = [
        e for e in unfinished if e.state == State.SCHEDULED and e.meeting_at and e.meeting_at >= now
    ]
    upcoming.sort(key=lambda e: e.meeting_at or now)
    return AtHand(waiting=waiting, meetings=upcoming[:meetings])


@dataclass(frozen=True)
class PartnerExchange:
    network: Network  # the host
    exchange: Exchange
    link_id: int  # the RemoteExchange row: unique across every network, unlike the exchange's id


def partner_exchanges(*, member: Member, network: Network) -> list[PartnerExchange]:
    """The member's exchanges hosted by partner networks: one query for the index, then
    one per hosting network (each read inside that network's schema)."""
    links = RemoteExchange.objects.filter(
        guest_network=network, guest_member_id=member.pk
    ).select_related("host_network")
    by_host: dict[int, tuple[Network, dict[int, int]]] = {}
    for link in links:
        by_host.setdefault(link.host_network_id, (link.host_network, {}))[1][link.exchange_id] = (
            link.pk
        )
    found = []
    for host, link_ids in by_host.values():
        with tenant_context(host):
            exchanges = Exchange.objects.filter(
                pk__in=link_ids, remote_network_id=network.pk, remote_member_id=member.pk
            ).select_related("listing", "giver", "receiver")
            found += [PartnerExchange(host, e, link_ids[e.pk]) for e in exchanges]
    return sorted(found, key=lambda p: p.exchange.updated_at, reverse=True)


@dataclass(frozen=True)
class Overview:
    disputes: list[Exchange]
    awaiting_confirmation: list[Exchange]
    recent: list[Exchange]


def exchanges_overview(*, actor: Member, recent: int = 20) -> Overview:
    """For organisers: open disputes, hours awaiting confirmation, recent activity.
    Refused (PermissionDenied, 403) to anyone whose role lacks
    `exchanges.view_all_exchanges`."""
    _organiser_require(actor)
    exchanges = Exchange.objects.select_related("listing", "giver", "receiver")
    return Overview(
        disputes=list(exchanges.filter(state=State.DISPUTED).order_by("updated_at")),
        awaiting_confirmation=list(exchanges.filter(state=State.RECORDED).order_by("recorded_at")),
        recent=list(exchanges.order_by("-updated_at")[:recent]),
    )


def safeguarding_contact(*, actor: Member) -> ExchangeSettings:
    """The network's safeguarding contact as saved, for the organisers' form that names it.
    Refused (PermissionDenied, 403) to anyone whose role lacks `exchanges.settle_dispute`,
    the permission `safeguarding_contact_set` asks."""
    if not actor.has_perm("exchanges.settle_dispute"):
        raise PermissionDenied(_("Only organisers can name the safeguarding contact."))
    return exchange_settings()


EXPORT_COLUMNS = [
    "id",
    "listing",
    "category",
    "format",
    "giver",
    "receiver",
    "state",
    "minutes",
    "created_at",
    "meeting_at",
    "completed_at",
]


def exchanges_export_rows(*, actor: Member) -> Iterator[list[str]]:
    """Every exchange in the network, one row each, streamed in id order. Refused at once
    (not when the rows are read) to anyone whose role lacks `exchanges.view_all_exchanges`."""
    _organiser_require(actor)
    return _export_rows()


def _organiser_require(actor: Member) -> None:
    if not actor.has_perm("exchanges.view_all_exchanges"):
        raise PermissionDenied(_("Only organisers can see every exchange."))


def _export_rows() -> Iterator[list[str]]:
    rows = (
        Exchange.objects.order_by("id")
        .select_related("listing", "giver", "receiver")
        .iterator(chunk_size=500)
    )
    for e in rows:
        yield [
            str(e.pk),
            e.listing.title,
            e.listing.category,
            e.listing.format,
            e.giver_name,
            e.receiver_name,
            e.state,
            str(e.minutes or ""),
            _iso(e.created_at),
            _iso(e.meeting_at),
            _iso(e.completed_at),
        ]


def _iso(value: datetime.datetime | None) -> str:
    return value.isoformat(timespec="minutes") if value else ""


def thanks_for(*, member: Member, limit: int = 10) -> list[tuple[str, str]]:
    """(author, text) of the latest thank-yous the member received."""
    return list(member.thanks_received.values_list("author_name", "text")[:limit])

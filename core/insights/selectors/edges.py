"""Edges and people from the database: completed exchanges and project volunteering."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django_tenants.utils import tenant_context

from core.exchanges.models import Exchange, State
from core.insights.graph import Edge, EdgeKind, Party, member, network, project
from core.insights.metrics import Person
from core.members.models import Member
from core.projects.models import HoursConfirmation
from kernel.db import connection
from ledger.federation.models import RemoteExchange
from tenants.models import Network

from .map import DateRange


def _party(member_id: int | None, network_id: int | None) -> Party:
    return member(member_id) if member_id is not None else network(network_id or 0)


def exchange_edges(*, dates: DateRange) -> list[Edge]:
    """Completed exchanges in the date range (by completion), oldest first: one query."""
    start, end = dates.bounds()
    exchanges = Exchange.objects.filter(state=State.COMPLETED)
    if start:
        exchanges = exchanges.filter(completed_at__gte=start)
    if end:
        exchanges = exchanges.filter(completed_at__lt=end)
    rows = exchanges.order_by("completed_at", "pk").values_list(
        "giver_id",
        "receiver_id",
        "remote_network_id",
        "minutes",
        "completed_at",
        "listing__category",
        "listing__format",
    )
    return [
        Edge(
            giver=_party(giver, remote),
            receiver=_party(receiver, remote),
            minutes=minutes,
            when=when,
            kind=EdgeKind.EXCHANGE,
            category=category,
            format=format_,
        )
        for giver, receiver, remote, minutes, when, category, format_ in rows
        if minutes is not None and when is not None  # always so once completed
    ]


def volunteering_edges(*, dates: DateRange) -> list[Edge]:
    """Each confirmation of a volunteer's project hours, from the volunteer to the project
    (not to its lead: the project's budget pays, and the lead received nothing): one
    query."""
    start, end = dates.bounds()
    confirmations = HoursConfirmation.objects.all()
    if start:
        confirmations = confirmations.filter(created_at__gte=start)
    if end:
        confirmations = confirmations.filter(created_at__lt=end)
    rows = confirmations.order_by("created_at", "pk").values_list(
        "volunteer__member_id", "volunteer__project_id", "minutes", "created_at"
    )
    return [
        Edge(
            giver=member(volunteer),
            receiver=project(project_id),
            minutes=minutes,
            when=when,
            kind=EdgeKind.PROJECT,
            category="",
            format="",
        )
        for volunteer, project_id, minutes, when in rows
    ]


def partner_hosted_edges(*, dates: DateRange) -> list[Edge]:
    """Completed exchanges this network's members had with partner networks' listings. They
    are stored by the network that listed them; each becomes a line between our member and
    that network as a whole. One query for the index, then one per hosting network."""
    # By schema name: a Celery task's connection knows the schema but not the Network.
    links = RemoteExchange.objects.filter(guest_network__schema_name=connection.schema_name)
    found = list(links.values_list("host_network_id", "exchange_id", "guest_network_id"))
    if not found:
        return []
    here_id = found[0][2]
    hosted: dict[int, list[int]] = {}
    for host_id, exchange_id, _ in found:
        hosted.setdefault(host_id, []).append(exchange_id)
    start, end = dates.bounds()
    edges: list[Edge] = []
    for host in Network.objects.filter(pk__in=hosted):
        with tenant_context(host):
            exchanges = Exchange.objects.filter(
                pk__in=hosted[host.pk], state=State.COMPLETED, remote_network_id=here_id
            )
            if start:
                exchanges = exchanges.filter(completed_at__gte=start)
            if end:
                exchanges = exchanges.filter(completed_at__lt=end)
            # django-stubs types a nullable foreign key's "giver_id" here as a plain int.
            rows: Sequence[tuple[int | None, int | None, int | None, datetime | None, str, str]] = (
                list(
                    exchanges.values_list(
                        "giver_id",
                        "remote_member_id",
                        "minutes",
                        "completed_at",
                        "listing__category",
                        "listing__format",
                    )
                )
            )
        for giver, ours, minutes, when, category, format_ in rows:
            if ours is None or minutes is None or when is None:
                continue  # never so once completed with a member of ours
            mine, theirs = member(ours), network(host.pk)
            giving, receiving = (mine, theirs) if giver is None else (theirs, mine)
            edges.append(
                Edge(
                    giver=giving,
                    receiver=receiving,
                    minutes=minutes,
                    when=when,
                    category=category,
                    format=format_,
                )
            )
    return edges


def network_edges(*, dates: DateRange) -> list[Edge]:
    """Completed exchanges (those hosted here and those our members had on partner
    networks' listings) and project volunteering, oldest first."""
    return sorted(
        exchange_edges(dates=dates)
        + partner_hosted_edges(dates=dates)
        + volunteering_edges(dates=dates),
        key=lambda e: e.when,
    )


def people() -> dict[int, Person]:
    """Every member's profession and organisation, for the crossing rates: one query."""
    return {
        pk: Person(profession, organisation)
        for pk, profession, organisation in Member.objects.filter(is_staff=False).values_list(
            "pk", "profession", "organisation"
        )
    }

"""Edges and people from the database: completed exchanges and project volunteering."""

from __future__ import annotations

from core.exchanges.models import Exchange, State
from core.members.models import Member
from core.projects.models import HoursConfirmation

from .graph import Edge, EdgeKind, Party, member, network
from .metrics import Person
from .network_map import DateRange


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
        "giver_id", "receiver_id", "remote_network_id", "minutes", "completed_at",
        "listing__category", "listing__format",
    )  # fmt: skip
    return [
        Edge(giver=_party(giver, remote), receiver=_party(receiver, remote), minutes=minutes,
             when=when, kind=EdgeKind.EXCHANGE, category=category, format=format_)
        for giver, receiver, remote, minutes, when, category, format_ in rows
        if minutes is not None and when is not None  # always so once completed
    ]  # fmt: skip


def volunteering_edges(*, dates: DateRange) -> list[Edge]:
    """Each confirmation of a volunteer's project hours, towards the project's lead: one
    query."""
    start, end = dates.bounds()
    confirmations = HoursConfirmation.objects.all()
    if start:
        confirmations = confirmations.filter(created_at__gte=start)
    if end:
        confirmations = confirmations.filter(created_at__lt=end)
    rows = confirmations.order_by("created_at", "pk").values_list(
        "volunteer__member_id", "volunteer__project__lead_id", "minutes", "created_at"
    )
    return [
        Edge(giver=member(volunteer), receiver=member(lead), minutes=minutes, when=when,
             kind=EdgeKind.PROJECT, category="", format="")
        for volunteer, lead, minutes, when in rows
    ]  # fmt: skip


def network_edges(*, dates: DateRange) -> list[Edge]:
    """Completed exchanges and project volunteering, oldest first."""
    return sorted(
        exchange_edges(dates=dates) + volunteering_edges(dates=dates), key=lambda e: e.when
    )


def people() -> dict[int, Person]:
    """Every member's profession and organisation, for the crossing rates: one query."""
    return {
        pk: Person(profession, organisation)
        for pk, profession, organisation in Member.objects.filter(is_staff=False).values_list(
            "pk", "profession", "organisation"
        )
    }

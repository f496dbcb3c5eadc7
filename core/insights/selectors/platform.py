"""For platform staff: figures across every network, and never about any one member.

Each network's members, active members and hours given come from the same figures as the
equality report (`selectors.equality.equality_figures`), the flows between networks from
the federation ledger; the equality tables are summed across networks, then suppressed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Sum
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from core.members.models import Member
from core.members.services import member_require_staff
from ledger.federation.models import FederationTransfer
from tenants.models import Network

from .equality import (
    ALL,
    NONE,
    PERIOD,
    GroupFigures,
    ReportTable,
    equality_figures,
    equality_tables,
)


@dataclass(frozen=True)
class NetworkActivity:
    network: Network
    members: int
    active: int
    given: int  # minutes credited to its members: exchanges, projects, other networks
    to_other_networks: int  # minutes its members gave members of other networks
    from_other_networks: int  # minutes its members received from other networks


@dataclass(frozen=True)
class FederationFlow:
    giver: Network  # the network whose members gave the help
    receiver: Network
    minutes: int
    transfers: int


@dataclass(frozen=True)
class PlatformInsights:
    since: datetime
    until: datetime
    networks: list[NetworkActivity]
    flows: list[FederationFlow]
    # The networks in any flow, and the minutes given by each (row) to each (column);
    # None on the diagonal.
    matrix_networks: list[Network]
    matrix: list[list[int | None]]
    equality: list[ReportTable]

    @property
    def matrix_rows(self) -> list[tuple[Network, list[MatrixCell | None]]]:
        """The matrix for a page: hours and a shade (0.05-0.35, by the busiest flow)."""
        busiest = max((m or 0 for row in self.matrix for m in row), default=0) or 1
        return [
            (
                network,
                [
                    None if m is None else MatrixCell(m, f"{0.05 + 0.3 * m / busiest:.2f}")
                    for m in row
                ],
            )
            for network, row in zip(self.matrix_networks, self.matrix, strict=True)
        ]


@dataclass(frozen=True)
class MatrixCell:
    minutes: int
    shade: str


def platform_insights(*, actor: Member, now: datetime | None = None) -> PlatformInsights:
    """For platform staff: each network's members, active members, hours given and hours
    exchanged with other networks; the flows between networks; and the equality tables
    summed across networks, then suppressed. Nothing about any one member.

    A bounded number of queries: the networks, one statement per `SCHEMAS_PER_QUERY`
    networks for everything read from their schemas, and one for the federation ledger.
    """
    member_require_staff(actor)
    until = now or timezone.now()
    since = until - PERIOD
    networks = list(
        Network.objects.exclude(schema_name=get_public_schema_name()).order_by("name", "pk")
    )
    by_id = {n.pk: n for n in networks}
    by_schema = equality_figures([n.schema_name for n in networks], since=since)
    flows = [
        FederationFlow(
            by_id[row["payee__network"]],
            by_id[row["payer__network"]],
            row["minutes"],
            row["transfers"],
        )
        for row in FederationTransfer.objects.filter(created_at__gte=since)
        .values("payee__network", "payer__network")
        .annotate(minutes=Sum("amount"), transfers=Count("id"))
        .order_by("-minutes", "payee__network", "payer__network")
        if row["payee__network"] in by_id and row["payer__network"] in by_id
    ]
    gave: dict[int, int] = defaultdict(int)
    got: dict[int, int] = defaultdict(int)
    for flow in flows:
        gave[flow.giver.pk] += flow.minutes
        got[flow.receiver.pk] += flow.minutes
    activity = []
    summed: dict[tuple[str, str], GroupFigures] = defaultdict(GroupFigures)
    for network in networks:
        figures = by_schema[network.schema_name]
        everyone = figures.get(ALL, NONE)
        activity.append(
            NetworkActivity(
                network,
                everyone.members,
                everyone.active,
                everyone.given,
                gave.get(network.pk, 0),
                got.get(network.pk, 0),
            )
        )
        for key, figs in figures.items():
            summed[key] += figs
    involved = [n for n in networks if n.pk in gave or n.pk in got]
    minutes = {(f.giver.pk, f.receiver.pk): f.minutes for f in flows}
    matrix = [
        [None if a.pk == b.pk else minutes.get((a.pk, b.pk), 0) for b in involved] for a in involved
    ]
    return PlatformInsights(
        since=since,
        until=until,
        networks=activity,
        flows=flows,
        matrix_networks=involved,
        matrix=matrix,
        equality=equality_tables(summed),
    )

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, QuerySet
from django_tenants.utils import get_public_schema_name, tenant_context

from core.members.models import Member
from ledger.models import Transfer
from ledger.selectors import network_totals

from .models import Network


def network_list() -> QuerySet[Network]:
    """Every network (never the public site's own row), with its primary domain."""
    return (
        Network.objects.exclude(schema_name=get_public_schema_name())
        .prefetch_related("domains")
        .order_by("name")
    )


@dataclass(frozen=True)
class NetworkOverview:
    network: Network
    members: int
    minutes_exchanged: int
    last_activity: datetime | None
    plan: str

    @property
    def hours_exchanged(self) -> float:
        return self.minutes_exchanged / 60


def network_overview_list() -> list[NetworkOverview]:
    """Every network with its members, hours exchanged (from the ledger), last activity
    (latest sign-in or ledger transfer) and plan, for the platform-staff console.

    Reads each network's schema in turn: a few queries per network."""
    return [network_overview(network) for network in network_list()]


def network_overview(network: Network) -> NetworkOverview:
    with tenant_context(network):
        members = Member.objects.aggregate(count=Count("id"), last_login=Max("last_login"))
        last_transfer = Transfer.objects.aggregate(at=Max("created_at"))["at"]
        minutes = network_totals().exchanged
    moments = [m for m in (members["last_login"], last_transfer) if m is not None]
    return NetworkOverview(
        network=network,
        members=members["count"],
        minutes_exchanged=minutes,
        last_activity=max(moments) if moments else None,
        plan=network.get_plan_display()
        + (
            f", {network.get_billing_status_display().lower()}"
            if network.billing_status != "none"
            else ""
        ),
    )

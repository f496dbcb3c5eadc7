"""The platform-staff console's figures for each network: members (as the plan counts
them), hours exchanged, last activity (latest sign-in or ledger transfer) and plan.

Reads only. The ledger's figures come from the ledger (`ledger_activity_by_schema`); the
members' from each schema's member table. The same queries however many networks there
are: the networks, their domains, one UNION ALL over their schemas for the members and one
for the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg import sql

from core.members.models import Member, MemberState
from core.members.services import member_require_staff
from kernel.db import schemas_union_fetch
from ledger.selectors import SchemaActivity, ledger_activity_by_schema
from tenants.models import Network
from tenants.selectors import network_list


@dataclass(frozen=True)
class NetworkOverview:
    network: Network
    members: int
    minutes_exchanged: int
    last_activity: datetime | None
    plan: str


@dataclass(frozen=True)
class _MemberFigures:
    members: int
    last_login: datetime | None


def network_overview_list(*, actor: Member) -> list[NetworkOverview]:
    """Every network with its figures, for platform staff (`actor`)."""
    member_require_staff(actor)
    return _overviews(list(network_list()))


def network_overview(*, actor: Member, network: Network) -> NetworkOverview:
    """`network`'s figures, for platform staff (`actor`)."""
    member_require_staff(actor)
    return _overviews([network])[0]


def _overviews(networks: list[Network]) -> list[NetworkOverview]:
    names = [network.schema_name for network in networks]
    members = _member_figures(names)
    ledger = ledger_activity_by_schema(names)
    return [
        _overview(network, members[network.schema_name], ledger[network.schema_name])
        for network in networks
    ]


def _member_figures(schema_names: list[str]) -> dict[str, _MemberFigures]:
    """Members (as the plan counts them) and the latest sign-in for each schema, in one
    query."""
    if not schema_names:
        return {}
    branch = sql.SQL(
        """SELECT {name}::text,
          (SELECT count(*) FROM {schema}.{members}
            WHERE NOT is_staff AND state NOT IN ({declined}, {closed})),
          (SELECT max(last_login) FROM {schema}.{members})"""
    )
    tables = {
        "members": sql.Identifier(Member._meta.db_table),
        "declined": sql.Literal(MemberState.DECLINED.value),
        "closed": sql.Literal(MemberState.CLOSED.value),
    }
    rows = schemas_union_fetch(branch, schema_names, **tables)
    return {
        schema: _MemberFigures(members=members, last_login=last_login)
        for schema, members, last_login in rows
    }


def _overview(network: Network, members: _MemberFigures, ledger: SchemaActivity) -> NetworkOverview:
    moments = [m for m in (members.last_login, ledger.last_transfer) if m is not None]
    return NetworkOverview(
        network=network,
        members=members.members,
        minutes_exchanged=ledger.minutes_exchanged,
        last_activity=max(moments) if moments else None,
        plan=network.get_plan_display()
        + (
            f", {network.get_billing_status_display().lower()}"
            if network.billing_status != "none"
            else ""
        ),
    )

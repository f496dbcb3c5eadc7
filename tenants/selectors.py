from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name
from psycopg import sql

from core.members.models import Member, MemberState
from kernel.db import connection
from ledger.models import Entry, Transfer

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


def network_overview_list() -> list[NetworkOverview]:
    """Every network with its members, hours exchanged (from the ledger), last activity
    (latest sign-in or ledger transfer) and plan, for the platform-staff console.

    The same three queries however many networks there are: the networks, their domains,
    and one UNION ALL over their schemas for the figures."""
    networks = list(network_list())
    stats = _network_stats(networks)
    return [_overview(network, stats[network.schema_name]) for network in networks]


def network_overview(network: Network) -> NetworkOverview:
    return _overview(network, _network_stats([network])[network.schema_name])


@dataclass(frozen=True)
class _Stats:
    members: int
    last_login: datetime | None
    last_transfer: datetime | None
    minutes_exchanged: int


def _network_stats(networks: list[Network]) -> dict[str, _Stats]:
    """Members (as the plan counts them), latest sign-in, latest transfer and minutes
    exchanged between members, for each network's schema, in one query."""
    if not networks:
        return {}
    branch = sql.SQL(
        """SELECT {name}::text,
          (SELECT count(*) FROM {schema}.{members}
            WHERE NOT is_staff AND state NOT IN ({declined}, {closed})),
          (SELECT max(last_login) FROM {schema}.{members}),
          (SELECT max(created_at) FROM {schema}.{transfers}),
          (SELECT coalesce(sum(e.amount), 0) FROM {schema}.{entries} e
             JOIN {schema}.{transfers} t ON t.id = e.transfer_id
            WHERE t.kind = {exchange} AND e.amount > 0)"""
    )
    tables = {
        "members": sql.Identifier(Member._meta.db_table),
        "transfers": sql.Identifier(Transfer._meta.db_table),
        "entries": sql.Identifier(Entry._meta.db_table),
        "declined": sql.Literal(MemberState.DECLINED.value),
        "closed": sql.Literal(MemberState.CLOSED.value),
        "exchange": sql.Literal(Transfer.Kind.EXCHANGE.value),
    }
    query = sql.SQL("\nUNION ALL\n").join(
        branch.format(
            name=sql.Literal(network.schema_name),
            schema=sql.Identifier(network.schema_name),
            **tables,
        )
        for network in networks
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.cursor.connection))
        rows = cursor.fetchall()
    return {
        schema: _Stats(
            members=members,
            last_login=last_login,
            last_transfer=last_transfer,
            minutes_exchanged=int(minutes),
        )
        for schema, members, last_login, last_transfer, minutes in rows
    }


def _overview(network: Network, stats: _Stats) -> NetworkOverview:
    moments = [m for m in (stats.last_login, stats.last_transfer) if m is not None]
    return NetworkOverview(
        network=network,
        members=stats.members,
        minutes_exchanged=stats.minutes_exchanged,
        last_activity=max(moments) if moments else None,
        plan=network.get_plan_display()
        + (
            f", {network.get_billing_status_display().lower()}"
            if network.billing_status != "none"
            else ""
        ),
    )


def network_language(network: Network) -> str:
    """The language of a network's pages and emails for someone who has not chosen one:
    its organiser sets it on the branding page (theming.Theme.default_language)."""
    try:
        language: str = network.theme.default_language
    except ObjectDoesNotExist:  # never branded: the platform's default
        return settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def recipient_language(member: Member, network: Network) -> str:
    """The language to write to a member in: their own choice, else their network's."""
    return (
        member.language
        if member.language in dict(settings.LANGUAGES)
        else (network_language(network))
    )


def network_url(network: Network, path: str = "/") -> str:
    """The absolute address of a page of a network, for emails: its primary domain, over
    https in production; in development plain http on the port `hexitime up` serves."""
    domain = network.domains.get(is_primary=True).domain
    if settings.DEBUG:
        port = "" if settings.HEXITIME_PORT == 80 else f":{settings.HEXITIME_PORT}"
        return f"http://{domain}{port}{path}"
    return f"https://{domain}{path}"

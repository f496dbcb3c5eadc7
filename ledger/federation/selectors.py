from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from core.members.models import Member
from kernel.cache import cache_kept
from kernel.db import connection
from kernel.errors import PermissionDenied
from tenants.models import Network

from .models import FederationTransfer, Membership


def federation_transfers_of(network: Network) -> QuerySet[FederationTransfer]:
    """The federation transfers `network` paid or was paid by."""
    return FederationTransfer.objects.filter(Q(payer__network=network) | Q(payee__network=network))


def federation_positions() -> dict[int, int]:
    """Network id -> federation position in minutes."""
    return dict(Membership.objects.values_list("network_id", "position"))


# The database's guards over the federation ledger (migrations/0003_guarantees.py).
GUARD_TRIGGERS = {
    "federation_transfer_append_only": "federation_federationtransfer",
    "federation_transfer_insert_guard": "federation_federationtransfer",
    "federation_membership_position_guard": "federation_membership",
}


def federation_audit() -> list[str]:
    """Problems in the federation ledger itself (empty when clean): positions that do not
    sum to zero or do not match their transfers, and any guard trigger missing or
    switched off (then positions could have been edited by hand)."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND t.tgname = ANY(%s) AND t.tgenabled IN ('O', 'A')",
            [get_public_schema_name(), list(GUARD_TRIGGERS)],
        )
        enabled = dict(cursor.fetchall())
    for trigger, table in GUARD_TRIGGERS.items():
        if enabled.get(trigger) != table:
            problems.append(f"guard trigger {trigger} on {table} is missing or disabled")
    total = Membership.objects.aggregate(total=Sum("position", default=0))["total"]
    if total != 0:
        problems.append(f"federation positions sum to {total}, not 0")
    paid = dict(
        FederationTransfer.objects.values("payer")
        .annotate(m=Sum("amount"))
        .values_list("payer", "m")
    )
    received = dict(
        FederationTransfer.objects.values("payee")
        .annotate(m=Sum("amount"))
        .values_list("payee", "m")
    )
    for membership in Membership.objects.select_related("network"):
        expected = paid.get(membership.pk, 0) - received.get(membership.pk, 0)
        if membership.position != expected:
            problems.append(
                f"{membership.network.slug}: position {membership.position} but its transfers "
                f"add up to {expected}"
            )
    return problems


def federation_partners(first: Network, second: Network) -> bool:
    """Whether members of the two networks may exchange time: both are in the federation
    and each accepts the other (by name, or by accepting every network)."""
    return second.pk in partner_network_ids(first)


# A network's own place in the federation (its membership's id and whether it accepts
# every network, or None when it takes no part), kept in its cache for pages: most
# networks take no part, and their search page then asks the database nothing about
# partners. Dropped by federation_membership_set, the one writer of both fields.
PLACE_KEY = "federation:place"
PLACE_SECONDS = 600


def _place(network: Network) -> tuple[int, bool] | None:
    return (
        Membership.objects.filter(network=network, opted_in=True)
        .values_list("pk", "open_to_all")
        .first()
    )


def partner_network_ids(network: Network, *, kept: bool = False) -> set[int]:
    """The networks this network exchanges time with, both ways (two queries). `kept`,
    for pages of the network being served: its own place as kept in its cache, so one
    query, and none when it takes no part. Exchanges and settlement read it live."""
    place = (
        cache_kept(PLACE_KEY, PLACE_SECONDS, lambda: _place(network)) if kept else _place(network)
    )
    if place is None:
        return set()
    mine, open_to_all = place
    others = (
        Membership.objects.filter(opted_in=True, network__status=Network.Status.ACTIVE)
        .exclude(pk=mine)
        .filter(Q(open_to_all=True) | Q(partners=mine))
    )
    if not open_to_all:
        others = others.filter(pk__in=Membership.objects.filter(pk=mine).values("partners"))
    return set(others.values_list("network_id", flat=True).distinct())


@dataclass(frozen=True)
class FederationView:
    membership: Membership | None
    candidates: list[Network]  # other networks in the federation, by name
    accepted: set[int]  # network ids this network accepts
    accepts_us: set[int]  # network ids that accept this network
    partners: set[int]  # both ways: members can exchange


def federation_view(*, actor: Member, network: Network) -> FederationView:
    """What an organiser needs to choose partners (four queries). Refused
    (PermissionDenied, 403) to anyone whose role lacks `federation.change_membership`."""
    if not actor.has_perm("federation.change_membership"):
        raise PermissionDenied(_("Only organisers can change how the network exchanges time."))
    mine = Membership.objects.filter(network=network).first()
    others = list(
        Membership.objects.filter(opted_in=True, network__status=Network.Status.ACTIVE)
        .exclude(network=network)
        .select_related("network")
        .order_by("network__name")
    )
    accepted = set(mine.partners.values_list("network_id", flat=True)) if mine else set()
    accepts_us = (
        {m.network_id for m in others if m.open_to_all}
        | set(Membership.objects.filter(partners=mine).values_list("network_id", flat=True))
        if mine
        else set()
    )
    return FederationView(
        membership=mine,
        candidates=[m.network for m in others],
        accepted=accepted,
        accepts_us=accepts_us,
        partners=partner_network_ids(network),
    )

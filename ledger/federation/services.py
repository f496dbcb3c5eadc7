"""Exchanges between networks, settled through the federation ledger (public schema)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.members.models import Member
from kernel.cache import cache_forget
from kernel.db import connection, durable_service, instance_from_row
from kernel.errors import ApplicationError, PermissionDenied
from ledger.models import Account, Transfer
from ledger.services import (
    IdempotencyConflict,
    Leg,
    account_for_owner,
    clearing_account,
    minutes_as_text,
    transfer_create,
    with_retries,
)
from tenants.models import Network
from tenants.plans import plan_feature_require

from .models import FederationTransfer, Membership
from .selectors import PLACE_KEY


class FederationRefused(ApplicationError):
    pass


# The one way positions move and federation transfers are written (the database refuses
# any other: ledger/federation/migrations/0003_guarantees.py). Column names from the
# model; the values are parameters.
_POST_SQL = (
    "SELECT "  # noqa: S608
    + ", ".join(str(f.column) for f in FederationTransfer._meta.concrete_fields)
    + " FROM federation_post(%s, %s, %s, %s, %s, %s, %s)"
)


def federation_membership_set(
    *,
    network: Network,
    actor: Member | None,
    opted_in: bool,
    open_to_all: bool = False,
    debit_limit: int | None = None,
) -> Membership:
    """Opt a network in or out of the federation (an organiser's or staff decision).

    Opting in needs the organisation plan (`PlanLimitReached` otherwise, nothing written);
    opting out is always allowed."""
    if opted_in:
        plan_feature_require(network=network, feature="federation")
    with transaction.atomic():
        membership, _created = Membership.objects.select_for_update().get_or_create(network=network)
        before = {
            "opted_in": membership.opted_in,
            "open_to_all": membership.open_to_all,
            "debit_limit": membership.debit_limit,
        }
        membership.opted_in = opted_in
        membership.open_to_all = open_to_all
        if debit_limit is not None:
            if debit_limit < max(membership.position, 0):
                raise FederationRefused(
                    _("The debit limit cannot be below what the network already owes (%(owed)s).")
                    % {"owed": minutes_as_text(membership.position)}
                )
            membership.debit_limit = debit_limit
        # Only the fields chosen here: the position is federation_post()'s alone.
        membership.save(update_fields=["opted_in", "open_to_all", "debit_limit"])
        cache_forget(PLACE_KEY, schema=network.schema_name)
        audit_record(
            actor=actor,
            verb="federation.membership",
            target=membership,
            before=before,
            after={
                "opted_in": opted_in,
                "open_to_all": open_to_all,
                "debit_limit": membership.debit_limit,
            },
        )
    return membership


def federation_partner_add(*, network: Network, partner: Network, actor: Member | None) -> None:
    """`network` accepts exchanges from `partner` (one direction; call twice for both)."""
    with transaction.atomic():
        membership, _created = Membership.objects.get_or_create(network=network)
        partner_membership, _partner_created = Membership.objects.get_or_create(network=partner)
        membership.partners.add(partner_membership)
        audit_record(
            actor=actor,
            verb="federation.partner_add",
            target=membership,
            after={"partner": partner.slug},
        )


def federated_transfer_create(
    *,
    idempotency_key: str,
    payer_network: Network,
    payer_member_id: int,
    payee_network: Network,
    payee_member_id: int,
    minutes: int,
    memo: str = "",
    actor: Member | None = None,
) -> FederationTransfer:
    """Pay `minutes` from a member of one network to a member of another, in one database
    transaction: member(payer) -> clearing(payer), payer -> payee in the federation ledger,
    clearing(payee) -> member(payee).

    Refused (nothing written) when either network is not in the federation, when the
    payee network does not accept the payer network, when the payer network would pass
    its debit limit, or when the paying member lacks the credit. Idempotent by key. The
    two memberships are locked first, in id order, so federated transfers between the
    same networks queue instead of deadlocking.
    """
    if minutes <= 0:
        raise FederationRefused(_("An exchange moves a positive number of minutes."))
    if payer_network.pk == payee_network.pk:
        raise FederationRefused(_("Both members are in the same network: no federation needed."))
    previous_tenant = connection.tenant

    def settle() -> FederationTransfer:
        with transaction.atomic():
            connection.set_schema_to_public()
            locked = list(
                Membership.objects.select_for_update()
                .filter(network__in=[payer_network, payee_network])
                .order_by("id")
            )
            existing = FederationTransfer.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return _same_or_conflict(existing, payer_member_id, payee_member_id, minutes)
            payer, payee = _check_admission(locked, payer_network, payee_network, minutes)
            for network, member_id in (
                (payer_network, payer_member_id),
                (payee_network, payee_member_id),
            ):
                connection.set_tenant(network)
                if not Member.objects.filter(pk=member_id, is_active=True).exists():
                    raise FederationRefused(
                        _("No such member in %(name)s.") % {"name": network.name}
                    )
            connection.set_tenant(payer_network)
            transfer_create(
                idempotency_key=f"federation:{idempotency_key}:out",
                legs=[
                    Leg(account_for_owner(Account.Kind.MEMBER, payer_member_id), -minutes),
                    Leg(clearing_account(), minutes),
                ],
                kind=Transfer.Kind.FEDERATION,
                memo=memo,
                actor=actor,
            )
            connection.set_tenant(payee_network)
            transfer_create(
                idempotency_key=f"federation:{idempotency_key}:in",
                legs=[
                    Leg(clearing_account(), -minutes),
                    Leg(account_for_owner(Account.Kind.MEMBER, payee_member_id), minutes),
                ],
                kind=Transfer.Kind.FEDERATION,
                memo=memo,
                actor=actor,
            )
            connection.set_schema_to_public()
            with connection.cursor() as cursor:
                cursor.execute(
                    _POST_SQL,
                    [
                        idempotency_key,
                        payer.pk,
                        payee.pk,
                        minutes,
                        payer_member_id,
                        payee_member_id,
                        memo,
                    ],
                )
                row = cursor.fetchone()
            return instance_from_row(FederationTransfer, row)

    try:
        return with_retries(settle)
    finally:
        connection.set_tenant(previous_tenant)


def _check_admission(
    locked: list[Membership], payer_network: Network, payee_network: Network, minutes: int
) -> tuple[Membership, Membership]:
    by_network = {m.network_id: m for m in locked}
    payer, payee = by_network.get(payer_network.pk), by_network.get(payee_network.pk)
    if payer is None or not payer.opted_in:
        raise FederationRefused(
            _("%(name)s does not exchange with other networks.") % {"name": payer_network.name}
        )
    if payee is None or not payee.opted_in:
        raise FederationRefused(
            _("%(name)s does not exchange with other networks.") % {"name": payee_network.name}
        )
    if not payee.open_to_all and not payee.partners.filter(pk=payer.pk).exists():
        raise FederationRefused(
            _("%(network)s does not accept exchanges from %(other_network)s.")
            % {"network": payee_network.name, "other_network": payer_network.name}
        )
    if payer.position + minutes > payer.debit_limit:
        raise FederationRefused(
            _(
                "%(name)s has reached its limit for help received from other networks "
                "(%(limit)s). Its members can give help to other networks to make room."
            )
            % {"name": payer_network.name, "limit": minutes_as_text(payer.debit_limit)}
        )
    return payer, payee


def _same_or_conflict(
    existing: FederationTransfer, payer_member_id: int, payee_member_id: int, minutes: int
) -> FederationTransfer:
    if (existing.payer_member_id, existing.payee_member_id, existing.amount) != (
        payer_member_id,
        payee_member_id,
        minutes,
    ):
        raise IdempotencyConflict(
            _("idempotency key %(idempotency_key)s was used for a different transfer")
            % {"idempotency_key": existing.idempotency_key}
        )
    return existing


@durable_service
def federation_settings_update(
    *, network: Network, actor: Member, opted_in: bool, open_to_all: bool, partner_ids: set[int]
) -> Membership:
    """An organiser's choices in one step: in or out of the federation, accepting every
    network or only the named partners. Partners must themselves be in the federation.
    Joining needs the organisation plan (refused with a plain message); leaving never
    does. Audited with the partner list before and after."""
    if not actor.has_perm("federation.change_membership"):
        raise PermissionDenied(_("Only organisers can change how the network exchanges time."))
    known = set(
        Membership.objects.filter(opted_in=True, network__status=Network.Status.ACTIVE)
        .exclude(network=network)
        .filter(network_id__in=partner_ids)
        .values_list("pk", flat=True)
    )
    if len(known) != len(partner_ids):
        raise FederationRefused(_("Choose partners from the networks listed."), field="partners")
    membership = federation_membership_set(
        network=network, actor=actor, opted_in=opted_in, open_to_all=open_to_all
    )
    before = sorted(membership.partners.values_list("network__slug", flat=True))
    membership.partners.set(known)
    after = sorted(membership.partners.values_list("network__slug", flat=True))
    if before != after:
        audit_record(
            actor=actor,
            verb="federation.partners",
            target=membership,
            before={"partners": before},
            after={"partners": after},
        )
    return membership

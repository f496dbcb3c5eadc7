from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Member
from ledger.federation.models import FederationTransfer, Membership
from ledger.federation.selectors import federation_audit
from ledger.federation.services import (
    FederationRefused,
    federated_transfer_create,
    federation_membership_set,
    federation_partner_add,
)
from ledger.models import Account, Transfer
from ledger.services import (
    InsufficientCredit,
    LedgerError,
    Leg,
    clearing_account,
    gift_grant,
    issuance_account,
    member_account,
    transfer_create,
    transfer_reverse,
)
from tenants.models import Network
from tenants.plans import PlanLimitReached
from tenants.services.staff import StaffActionRefused, network_delete, network_export
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable


@pytest.fixture
def federated(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> tuple[Member, Member]:
    """Alice in A received help from Ben in B; A and B accept each other."""
    alice = make_member(network_a, full_name="Alice")
    ben = make_member(network_b, full_name="Ben")
    with tenant_context(network_a):
        gift_grant(member=alice)
    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=180)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    return alice, ben


def _pay(
    network_a: Network,
    network_b: Network,
    alice: Member,
    ben: Member,
    minutes: int = 60,
    key: str = "exchange:9:complete",
) -> FederationTransfer:
    return federated_transfer_create(
        idempotency_key=key,
        payer_network=network_a,
        payer_member_id=alice.pk,
        payee_network=network_b,
        payee_member_id=ben.pk,
        minutes=minutes,
        memo="QI coaching",
    )


def _balances(network: Network) -> dict[str, int]:
    with tenant_context(network):
        return {f"{a.kind}:{a.owner_id or ''}": a.balance for a in Account.objects.order_by("id")}


def test_a_cross_network_exchange_moves_credit_through_both_clearing_accounts(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    transfer = _pay(network_a, network_b, alice, ben)
    assert transfer.amount == 60
    assert _balances(network_a) == {
        "issuance:": -120,
        "clearing:": 60,
        "pot:": 0,
        f"member:{alice.pk}": 60,
    }
    assert _balances(network_b) == {
        "issuance:": 0,
        "clearing:": -60,
        "pot:": 0,
        f"member:{ben.pk}": 60,
    }
    positions = dict(Membership.objects.values_list("network__slug", "position"))
    assert positions == {"network-a": 60, "network-b": -60}
    call_command("ledger_audit")  # raises CommandError on any mismatch


def test_federated_legs_are_not_reversed_or_imitated_locally(
    network_a: Network,
    network_b: Network,
    federated: tuple[Member, Member],
    make_member: Callable[..., Member],
) -> None:
    alice, ben = federated
    organiser = make_member(network_a, role="organiser")
    _pay(network_a, network_b, alice, ben)
    with tenant_context(network_a):
        local = Transfer.objects.get(kind=Transfer.Kind.FEDERATION)
        with pytest.raises(LedgerError, match="exchange back"):
            transfer_reverse(transfer=local, actor=organiser, reason="Wrong network")
        with pytest.raises(LedgerError, match="clearing account"):
            transfer_create(
                idempotency_key="sneaky",
                kind=Transfer.Kind.EXCHANGE,
                legs=[Leg(clearing_account(), -60), Leg(member_account(alice), 60)],
            )
        assert Transfer.objects.count() == 2  # the gift and the federated leg
    call_command("ledger_audit")


def test_repeating_a_federated_transfer_moves_nothing_more(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    first = _pay(network_a, network_b, alice, ben)
    assert _pay(network_a, network_b, alice, ben).pk == first.pk
    assert FederationTransfer.objects.count() == 1
    assert _balances(network_b)[f"member:{ben.pk}"] == 60


def test_refused_past_the_debit_limit_and_nothing_is_written(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    with tenant_context(network_a):  # more credit, so Alice's balance is not what stops her
        transfer_create(
            idempotency_key="project:1:volunteer:alice",
            kind=Transfer.Kind.PROJECT_CREDIT,
            legs=[Leg(issuance_account(), -120), Leg(member_account(alice), 120)],
        )
    _pay(network_a, network_b, alice, ben, minutes=120, key="first")
    before_a, before_b = _balances(network_a), _balances(network_b)
    with pytest.raises(FederationRefused, match="reached its limit"):
        _pay(network_a, network_b, alice, ben, minutes=90, key="second")
    assert (_balances(network_a), _balances(network_b)) == (before_a, before_b)
    assert FederationTransfer.objects.count() == 1


def test_refused_when_the_other_network_does_not_accept_us(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a)
    ben = make_member(network_b)
    with tenant_context(network_a):
        gift_grant(member=alice)
    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True)
    with pytest.raises(FederationRefused, match="does not accept exchanges from Network A"):
        _pay(network_a, network_b, alice, ben)
    assert not FederationTransfer.objects.exists()
    assert _balances(network_a)[f"member:{alice.pk}"] == 120


def test_a_member_without_credit_cannot_pay_another_network(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    with pytest.raises(InsufficientCredit):
        _pay(network_a, network_b, alice, ben, minutes=150)
    assert Membership.objects.get(network=network_a).position == 0
    assert _balances(network_a)["clearing:"] == 0


def test_the_audit_fails_when_a_balance_is_corrupted(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    _pay(network_a, network_b, alice, ben)
    call_command("ledger_audit", "--network", "network-a")
    with tenant_context(network_a), connection.cursor() as cursor:
        # What a careless hand with psql could do: bypass the triggers and edit a balance.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE ledger_account SET balance = balance + 15 WHERE kind = 'member'")
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match="1 network"):
        call_command("ledger_audit")
    call_command("ledger_audit", "--network", "network-b")  # the other network is fine


def test_the_audit_fails_when_the_federation_does_not_add_up(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    _pay(network_a, network_b, alice, ben)
    with connection.cursor() as cursor:
        # A careless hand with psql, bypassing the triggers that refuse this.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE federation_membership SET position = -50 WHERE position = -60")
        cursor.execute("SET LOCAL session_replication_role = origin")
    with pytest.raises(CommandError, match="federation"):
        call_command("ledger_audit")


def _refused(write: Callable[[], object]) -> None:
    """`write` is refused by the database, and the transaction stays usable."""
    with pytest.raises(DatabaseError, match="federation"), transaction.atomic():
        write()


def test_the_database_refuses_any_write_to_the_federation_ledger_but_the_posting(
    network_a: Network,
    network_b: Network,
    federated: tuple[Member, Member],
    make_network: Callable[..., Network],
) -> None:
    alice, ben = federated
    third = make_network("network-c")
    transfer = _pay(network_a, network_b, alice, ben)
    payer = Membership.objects.get(network=network_a)
    stale = Membership.objects.get(network=network_b)
    stale.position = 0  # a copy loaded before the transfer
    # Positions move only with a transfer, by federation_post().
    _refused(lambda: Membership.objects.filter(pk=payer.pk).update(position=F("position") - 60))
    _refused(stale.save)  # a whole-row save from a stale copy would rewrite the position
    _refused(lambda: Membership.objects.create(network=third, position=30))
    # Federation transfers are append-only and written only with the positions they move.
    _refused(lambda: FederationTransfer.objects.filter(pk=transfer.pk).update(amount=1))
    _refused(lambda: FederationTransfer.objects.filter(pk=transfer.pk).delete())
    _refused(
        lambda: FederationTransfer.objects.create(
            idempotency_key="by hand",
            payer=payer,
            payee=stale,
            amount=30,
            payer_member_id=alice.pk,
            payee_member_id=ben.pk,
        )
    )
    positions = dict(Membership.objects.values_list("network__slug", "position"))
    assert positions == {"network-a": 60, "network-b": -60}
    assert FederationTransfer.objects.get().amount == 60
    # Settings are still saved (only their own columns), and the audit is clean.
    federation_membership_set(network=network_b, actor=None, opted_in=True, debit_limit=120)
    assert Membership.objects.get(network=network_b).position == -60
    call_command("ledger_audit")


def test_the_audit_fails_when_a_federation_guard_is_switched_off(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    _pay(network_a, network_b, alice, ben)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks: ALTER may run
        cursor.execute(
            "ALTER TABLE federation_membership DISABLE TRIGGER federation_membership_position_guard"
        )
    out = io.StringIO()
    with pytest.raises(CommandError, match="the federation"):
        call_command("ledger_audit", stdout=out)
    assert "federation_membership_position_guard" in out.getvalue()


def test_only_the_organisation_plan_may_join_the_federation(
    network_a: Network, network_b: Network
) -> None:
    with pytest.raises(PlanLimitReached) as refused:
        federation_membership_set(network=network_a, actor=None, opted_in=True)
    assert refused.value.message == (
        "Federation with other networks comes with the organisation plan; Network A is on "
        "the Community (free) plan. An organiser can upgrade under Plan and billing."
    )
    assert refused.value.extra == {"code": "plan_required"}
    assert not Membership.objects.exists()
    assert not AuditEvent.objects.filter(verb="federation.membership").exists()

    upgrade(network_b)  # B's plan does not let A in
    with pytest.raises(PlanLimitReached):
        federation_membership_set(network=network_a, actor=None, opted_in=True)
    assert federation_membership_set(network=network_b, actor=None, opted_in=True).opted_in
    # Leaving (or staying out) needs no plan.
    assert not federation_membership_set(network=network_a, actor=None, opted_in=False).opted_in
    assert list(Membership.objects.values_list("network__slug", "opted_in").order_by("id")) == [
        ("network-b", True),
        ("network-a", False),
    ]


def test_staff_cannot_delete_a_network_that_exchanged_time_with_others(
    network_a: Network, network_b: Network, federated: tuple[Member, Member]
) -> None:
    alice, ben = federated
    _pay(network_a, network_b, alice, ben)
    staff = Member.objects.create_user(
        "staff@hexitime.example", "a long staff passphrase", full_name="Sam Staff", is_staff=True
    )
    network_export(actor=staff, network=network_a)
    with pytest.raises(StaffActionRefused, match="Suspend it instead"):
        network_delete(actor=staff, network=network_a, confirmation=network_a.slug)
    assert Network.objects.filter(pk=network_a.pk).exists()
    assert federation_audit() == []

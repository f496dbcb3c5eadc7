"""Hypothesis drives gifts, transfers, replays, reversals and federated transfers across
three networks, and checks every ledger invariant after each step."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.members.models import Member
from ledger.federation.selectors import federation_audit, federation_positions
from ledger.federation.services import (
    FederationRefused,
    federated_transfer_create,
    federation_membership_set,
    federation_partner_add,
)
from ledger.models import Account, Transfer
from ledger.selectors import ledger_audit
from ledger.services import (
    InsufficientCredit,
    Leg,
    gift_grant,
    member_account,
    transfer_create,
)
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network

LIMIT = 240


def _reverse(transfer: Transfer) -> Transfer:
    """The ledger's part of a correction (transfer_reverse is an organiser's durable
    service, which cannot run in the savepoint each example runs in)."""
    return transfer_create(
        idempotency_key=f"reversal:{transfer.pk}",
        kind=Transfer.Kind.REVERSAL,
        reverses=transfer,
        legs=[Leg(e.account, -e.amount) for e in transfer.entries.select_related("account")],
    )


minutes = st.integers(min_value=1, max_value=16).map(lambda quarters: quarters * 15)


def test_ledger_invariants_hold_under_any_sequence_of_operations(
    make_network: Callable[..., Network],
) -> None:
    networks = [make_network(slug) for slug in ("inv-a", "inv-b", "inv-c")]
    upgrade(*networks)
    for network in networks:
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=LIMIT)
    federation_partner_add(network=networks[1], partner=networks[0], actor=None)
    federation_partner_add(network=networks[0], partner=networks[1], actor=None)
    # networks[2] accepts nobody: transfers into it must be refused.
    keys = itertools.count()

    class Ledger(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            # Each example runs in a savepoint rolled back at teardown, so examples (and
            # hypothesis's replays of a failing one) all start from the same database.
            self.savepoint = transaction.atomic()
            self.savepoint.__enter__()
            self.members: list[tuple[int, int]] = []  # (network index, member id)
            self.balance: dict[tuple[int, int], int] = {}
            self.posted: list[tuple[int, str, list[tuple[int, int]]]] = []
            self.reversed: set[str] = set()

        def _account_balance(self, who: tuple[int, int]) -> int:
            return self.balance.get(who, 0)

        @rule(network=st.integers(0, 2))
        def join(self, network: int) -> None:
            with tenant_context(networks[network]):
                member = Member.objects.create_user(
                    f"m{next(keys)}@nhs.net", None, full_name="Member"
                )
            self.members.append((network, member.pk))

        @rule(data=st.data())
        def gift(self, data: st.DataObject) -> None:
            if not self.members:
                return
            network, member_id = who = data.draw(st.sampled_from(self.members))
            with tenant_context(networks[network]):
                member = Member.objects.get(pk=member_id)
                first = not Transfer.objects.filter(idempotency_key=f"gift:{member_id}").exists()
                gift_grant(member=member)
            if first:
                self.balance[who] = self._account_balance(who) + 120

        @rule(data=st.data(), amount=minutes)
        def transfer(self, data: st.DataObject, amount: int) -> None:
            if len(self.members) < 2:
                return
            payer = data.draw(st.sampled_from(self.members))
            same_network = [m for m in self.members if m[0] == payer[0] and m != payer]
            if not same_network:
                return
            payee = data.draw(st.sampled_from(same_network))
            key = f"t{next(keys)}"
            with tenant_context(networks[payer[0]]):
                legs = [
                    Leg(member_account(Member.objects.get(pk=payer[1])), -amount),
                    Leg(member_account(Member.objects.get(pk=payee[1])), amount),
                ]
                if self._account_balance(payer) >= amount:
                    transfer_create(idempotency_key=key, legs=legs, kind=Transfer.Kind.EXCHANGE)
                    self.balance[payer] -= amount
                    self.balance[payee] = self._account_balance(payee) + amount
                    self.posted.append((payer[0], key, [(payer[1], -amount), (payee[1], amount)]))
                else:
                    with pytest.raises(InsufficientCredit):
                        transfer_create(idempotency_key=key, legs=legs, kind=Transfer.Kind.EXCHANGE)

        @rule(data=st.data())
        def replay(self, data: st.DataObject) -> None:
            if not self.posted:
                return
            network, key, legs = data.draw(st.sampled_from(self.posted))
            with tenant_context(networks[network]):
                accounts = {m: member_account(Member.objects.get(pk=m)) for m, _ in legs}
                transfer_create(
                    idempotency_key=key,
                    legs=[Leg(accounts[m], amount) for m, amount in legs],
                    kind=Transfer.Kind.EXCHANGE,
                )

        @rule(data=st.data())
        def reverse(self, data: st.DataObject) -> None:
            candidates = [p for p in self.posted if p[1] not in self.reversed]
            if not candidates:
                return
            network, key, legs = data.draw(st.sampled_from(candidates))
            with tenant_context(networks[network]):
                transfer = Transfer.objects.get(idempotency_key=key)
                if all(self._account_balance((network, m)) >= amount for m, amount in legs):
                    _reverse(transfer)
                    for m, amount in legs:
                        self.balance[(network, m)] -= amount
                    self.reversed.add(key)
                else:
                    with pytest.raises(InsufficientCredit):
                        _reverse(transfer)

        @rule(data=st.data(), amount=minutes)
        def federate(self, data: st.DataObject, amount: int) -> None:
            others = [(p, q) for p in self.members for q in self.members if p[0] != q[0]]
            if not others:
                return
            payer, payee = data.draw(st.sampled_from(others))
            positions = federation_positions()
            payer_position = positions.get(networks[payer[0]].pk, 0)
            accepted = {payer[0], payee[0]} == {0, 1}
            call = lambda: federated_transfer_create(  # noqa: E731
                idempotency_key=f"f{next(keys)}",
                payer_network=networks[payer[0]],
                payer_member_id=payer[1],
                payee_network=networks[payee[0]],
                payee_member_id=payee[1],
                minutes=amount,
            )
            if not accepted or payer_position + amount > LIMIT:
                with pytest.raises(FederationRefused):
                    call()
            elif self._account_balance(payer) < amount:
                with pytest.raises(InsufficientCredit):
                    call()
            else:
                call()
                self.balance[payer] -= amount
                self.balance[payee] = self._account_balance(payee) + amount

        def teardown(self) -> None:
            transaction.set_rollback(True)
            self.savepoint.__exit__(None, None, None)

        @invariant()
        def balances_match_the_model_and_the_audit_is_clean(self) -> None:
            positions = federation_positions()
            for index, network in enumerate(networks):
                with tenant_context(network):
                    report = ledger_audit(
                        network_name=network.slug, federation_position=positions.get(network.pk)
                    )
                    assert report.clean, report.problems
                    actual = dict(
                        Account.objects.filter(kind="member").values_list("owner_id", "balance")
                    )
                expected = {m: b for (n, m), b in self.balance.items() if n == index and b}
                assert {m: b for m, b in actual.items() if b} == expected
            assert federation_audit() == []

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )

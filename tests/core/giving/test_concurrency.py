"""Gifts and grants at the same moment, in real threads against the real PostgreSQL: the
monthly limits hold, and a key sent twice at once gives once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from core.giving.models import Gift
from core.giving.services import GiftRefused, gift_give, giving_settings_update, pot_grant
from ledger.selectors import member_balance
from ledger.services import pot_account
from tests.conftest import at_once

if TYPE_CHECKING:
    from core.members.models import Member
    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_gifts_at_once_cannot_exceed_the_monthly_limit(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        giving_settings_update(actor=olu, member_monthly_minutes=60, pot_monthly_minutes=60)

    def give(key: str, **target: Any) -> Callable[[], Gift]:
        return lambda: gift_give(actor=alice, minutes=45, message="", key=key, **target)

    results = at_once(network_a, [give("a", recipient=bob), give("b")])
    made = [r for r in results if isinstance(r, Gift)]
    refused = [r for r in results if isinstance(r, GiftRefused)]
    assert (len(made), len(refused)) == (1, 1), results
    assert "15 minutes more" in refused[0].message
    with tenant_context(network_a):
        assert member_balance(member=alice) == 75
        assert Gift.objects.count() == 1
    call_command("ledger_audit", network="network-a")


def test_two_grants_at_once_cannot_exceed_the_pots_monthly_limit(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        giving_settings_update(actor=olu, member_monthly_minutes=600, pot_monthly_minutes=30)
        gift_give(actor=alice, minutes=120, message="", key="pot")

    def grant(key: str) -> Callable[[], Gift]:
        return lambda: pot_grant(actor=olu, recipient=bob, minutes=30, reason="r", key=key)

    results = at_once(network_a, [grant("g1"), grant("g2")])
    assert sorted(type(r).__name__ for r in results) == ["Gift", "GiftRefused"], results
    with tenant_context(network_a):
        assert pot_account().balance == 90
        assert member_balance(member=bob) == 150


def test_the_same_gift_sent_twice_at_once_gives_once(
    network_a: Network, people: dict[str, Member]
) -> None:
    alice, bob = people["alice"], people["bob"]

    def give() -> Gift:
        return gift_give(actor=alice, minutes=30, message="hi", key="double", recipient=bob)

    results = at_once(network_a, [give, give])
    assert all(isinstance(r, Gift) for r in results), results
    assert results[0].pk == results[1].pk
    with tenant_context(network_a):
        assert member_balance(member=alice) == 90

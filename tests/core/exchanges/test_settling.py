"""An organiser settling a dispute is told whose balance is short, and starts from the
recorded time when adjusting it."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.models import Exchange, State
from ledger.models import Transfer
from ledger.selectors import ledger_audit, member_balance

from .conftest import to_recorded

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _disputed(
    network: Network, offer: Listing, alice: Member, bob: Member, minutes: int
) -> Exchange:
    with tenant_context(network):
        exchange = to_recorded(offer, alice, bob, minutes=minutes)
        return x.exchange_dispute(actor=bob, exchange=exchange, reason="Too long")


def test_settling_what_the_receiver_cannot_pay_names_the_receiver(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, olive, _ = people
    exchange = _disputed(network_a, offer, alice, bob, minutes=180)  # Bob has 2 hours
    with tenant_context(network_a):
        with pytest.raises(x.ExchangeRefused) as refused:
            x.exchange_settle(actor=olive, exchange=exchange, outcome="confirm", note="Fair")
        assert refused.value.message.startswith("Bob Receiver has 2 hours of credit")
        assert "You have" not in refused.value.message
    client_a.force_login(olive)
    page = client_a.post(
        f"/exchanges/{exchange.pk}/settle/", {"outcome": "confirm", "note": "Fair"}
    )
    assert page.status_code == 409
    text = page.content.decode()
    assert "Bob Receiver has 2 hours of credit" in text and "You have" not in text
    with tenant_context(network_a):
        assert Exchange.objects.get(pk=exchange.pk).state == State.DISPUTED
        assert not Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).exists()


def test_the_adjusted_time_starts_at_the_recorded_time(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, olive, _ = people
    exchange = _disputed(network_a, offer, alice, bob, minutes=90)
    client_a.force_login(olive)
    page = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
    adjusted = re.search(
        r'<input type="number" name="minutes"[^>]*id="id_settle_minutes"[^>]*>', page
    )
    assert adjusted is not None and 'value="90"' in adjusted[0]
    assert (
        client_a.post(
            f"/exchanges/{exchange.pk}/settle/",
            {"outcome": "adjust", "minutes": "60", "note": "An hour"},
        ).status_code
        == 302
    )
    with tenant_context(network_a):
        assert Exchange.objects.get(pk=exchange.pk).minutes == 60


def test_auto_confirm_that_cannot_pay_tells_the_organiser_whose_balance_is_short(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=240)
        assert x.exchanges_auto_confirm(now=timezone.now() + datetime.timedelta(days=8)) == 0
        exchange.refresh_from_db()
        assert "Bob Receiver has 2 hours of credit" in exchange.dispute_reason
        assert "You have" not in exchange.dispute_reason


def test_another_networks_organiser_cannot_settle(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    exchange = _disputed(network_a, offer, alice, bob, minutes=60)
    client_b.force_login(make_member(network_b, role="organiser"))
    assert client_b.get(f"/exchanges/{exchange.pk}/").status_code == 404
    settle = client_b.post(
        f"/exchanges/{exchange.pk}/settle/", {"outcome": "confirm", "note": "Mine now"}
    )
    assert settle.status_code == 404
    with tenant_context(network_a):
        assert Exchange.objects.get(pk=exchange.pk).state == State.DISPUTED


def test_auto_confirm_pays_the_others_when_one_receiver_cannot_pay(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
) -> None:
    """One ledger call for the network's due exchanges: Eve's shortfall sends hers to an
    organiser, Bob's and Olive's are paid; network B's run touches none of them."""
    alice, bob, olive, eve = people
    later = timezone.now() + datetime.timedelta(days=8)
    with tenant_context(network_a):
        paid_bob = to_recorded(offer, alice, bob, minutes=60)
        short_eve = to_recorded(offer, alice, eve, minutes=240)  # Eve has 2 hours
        paid_olive = to_recorded(offer, alice, olive, minutes=30)
    with tenant_context(network_b):
        assert x.exchanges_auto_confirm(now=later) == 0
    with tenant_context(network_a):
        assert Exchange.objects.filter(state=State.RECORDED).count() == 3
        assert x.exchanges_auto_confirm(now=later) == 2
        states = dict(Exchange.objects.values_list("pk", "state"))
        assert states == {
            paid_bob.pk: State.COMPLETED,
            short_eve.pk: State.DISPUTED,
            paid_olive.pk: State.COMPLETED,
        }
        assert (
            "Eve Outsider has 2 hours of credit"
            in Exchange.objects.get(pk=short_eve.pk).dispute_reason
        )
        assert sorted(
            Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).values_list(
                "idempotency_key", flat=True
            )
        ) == sorted([paid_bob.ledger_key, paid_olive.ledger_key])
        assert member_balance(member=alice) == 120 + 90
        assert ledger_audit(network_name="network-a", federation_position=0).problems == []
        assert x.exchanges_auto_confirm(now=later) == 0  # nothing left due, nothing moves twice
        assert member_balance(member=alice) == 120 + 90

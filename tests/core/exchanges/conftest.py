from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.listings.services import listing_create
from core.members.models import Role
from ledger.federation.services import federation_membership_set, federation_partner_add
from ledger.services import gift_grant
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.exchanges.models import Exchange
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network


@pytest.fixture
def people(
    network_a: Network, make_member: Callable[..., Member]
) -> tuple[Member, Member, Member, Member]:
    """Alice offers coaching in network A; Bob wants it; Olive organises; Eve is nobody's
    business. Everyone has their two-hour welcome gift."""
    alice = make_member(network_a, full_name="Alice Giver")
    bob = make_member(network_a, full_name="Bob Receiver")
    olive = make_member(network_a, full_name="Olive Organiser", role=Role.ORGANISER)
    eve = make_member(network_a, full_name="Eve Outsider")
    with tenant_context(network_a):
        for member in (alice, bob, olive, eve):
            gift_grant(member=member)
    return alice, bob, olive, eve


@pytest.fixture
def offer(network_a: Network, people: tuple[Member, Member, Member, Member]) -> Listing:
    alice = people[0]
    with tenant_context(network_a):
        return listing_create(
            actor=alice,
            kind="offer",
            title="QI coaching",
            description="PDSA cycles",
            category="coaching",
        )


def soon(hours: int = 48) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def to_recorded(offer: Listing, alice: Member, bob: Member, minutes: int = 90) -> Exchange:
    """Walk an exchange on Alice's offer up to hours recorded (in the current schema): they
    met yesterday without agreeing a time here."""
    exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help with PDSA?")
    x.exchange_accept(actor=alice, exchange=exchange)
    return x.exchange_record_hours(
        actor=alice, exchange=exchange, minutes=minutes, met_on=yesterday()
    )


@pytest.fixture
def partners(network_a: Network, network_b: Network, make_member: Callable[..., Member]) -> Member:
    """Network A and network B (both on the paid plan) exchange time with each other; Ben
    in B has his welcome credit."""
    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=600)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    ben = make_member(network_b, full_name="Ben Partner")
    with tenant_context(network_b):
        gift_grant(member=ben)
    return ben

"""Exchanges between members of two partner networks, settled through the federation
ledger; nothing else of either network is exposed to the other."""

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.models import Exchange, State
from core.listings.models import Listing
from core.listings.services import listing_create
from core.notifications.models import Kind, Notification
from hexitime.errors import NotFound, PermissionDenied
from ledger.federation.models import FederationTransfer, RemoteExchange
from ledger.federation.services import federation_membership_set, federation_partner_add
from ledger.services import gift_grant, member_account
from tenants.models import Network, Plan


@pytest.fixture
def partners(network_a, network_b, make_member):
    """Network A and network B exchange time with each other; Ben in B has credit."""
    Network.objects.filter(pk__in=[network_a.pk, network_b.pk]).update(plan=Plan.ORGANISATION)
    for network in (network_a, network_b):
        network.refresh_from_db()
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=600)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    ben = make_member(network_b, full_name="Ben Partner")
    with tenant_context(network_b):
        gift_grant(member=ben)
    return ben


def test_an_exchange_across_networks_settles_through_the_federation(
    network_a, network_b, people, partners
):
    alice, _, _, _ = people
    ben = partners
    with tenant_context(network_a):
        listing = listing_create(actor=alice, kind="offer", title="Theatre shadowing",
                                 description="A morning in theatres", category="shadowing",
                                 visibility=Listing.Visibility.PARTNERS)  # fmt: skip
        exchange = x.exchange_respond(actor=ben, actor_network=network_b, listing=listing,
                                      message="Could I shadow you?")  # fmt: skip
        assert exchange.remote_name == "Ben Partner (Network B)"
        assert exchange.receiver is None and exchange.giver == alice
        x.exchange_accept(actor=alice, exchange=exchange)
        x.exchange_record_hours(actor=alice, exchange=exchange, minutes=90)
        with pytest.raises(PermissionDenied):  # Alice gave the help; Ben confirms
            x.exchange_confirm(actor=alice, exchange=exchange)
        x.exchange_confirm(actor=ben, exchange=exchange, actor_network=network_b)
        exchange.refresh_from_db()
        assert exchange.state == State.COMPLETED
        assert member_account(alice).balance == 120 + 90
    with tenant_context(network_b):
        assert member_account(ben).balance == 120 - 90
        # Ben was told in his own network, with a link that his network serves.
        told = Notification.objects.get(recipient=ben, kind=Kind.RESPONSE_ACCEPTED)
        assert told.url == f"/exchanges/partner/{network_a.slug}/{exchange.pk}/"
        assert not Exchange.objects.exists()  # the exchange itself lives in A
    assert FederationTransfer.objects.get().amount == 90
    assert RemoteExchange.objects.get().guest_member_id == ben.pk
    call_command("ledger_audit")  # raises CommandError on any mismatch


def test_listings_not_shared_with_partners_cannot_be_answered_from_them(
    network_a, network_b, people, partners, offer
):
    with tenant_context(network_a), pytest.raises(NotFound):
        x.exchange_respond(actor=partners, actor_network=network_b, listing=offer, message="Hi")


def test_networks_that_are_not_partners_cannot_exchange(network_a, network_b, people, make_member):
    alice = people[0]
    ben = make_member(network_b, full_name="Ben")
    with tenant_context(network_a):
        listing = listing_create(actor=alice, kind="offer", title="Shadowing", description="Hi",
                                 category="shadowing", visibility="partners")  # fmt: skip
        with pytest.raises(x.ExchangeRefused, match="do not exchange time"):
            x.exchange_respond(actor=ben, actor_network=network_b, listing=listing, message="Hi")
        assert not Exchange.objects.exists()

"""Exchanges between members of two partner networks, settled through the federation
ledger; nothing else of either network is exposed to the other."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.cpd.selectors import cpd_entries
from core.exchanges import services as x
from core.exchanges.models import FINAL_STATES, Exchange, State
from core.exchanges.selectors import (
    exchanges_at_hand,
    member_exchanges,
    member_exchanges_unfinished,
)
from core.exchanges.shown import EXCHANGE_SHOWN, UNFINISHED_EXCHANGES
from core.groupsessions.selectors import calendar_events
from core.listings.models import Listing
from core.listings.services import listing_create
from core.members.models import FORMER_MEMBER_NAME
from core.members.selectors import members_blocked_between
from core.members.services import member_block
from core.notifications.models import Kind, Notification
from core.privacy.services import member_close, member_data_export
from kernel import ics
from kernel.db import connection
from kernel.errors import NotFound, PermissionDenied
from ledger.federation.models import FederationTransfer, RemoteExchange
from ledger.federation.services import federation_membership_set
from ledger.services import member_account
from tests.conftest import reads, selected_columns

from .conftest import soon

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _accepted_partner_exchange(alice: Member, ben: Member, network_b: Network) -> Exchange:
    """In network A (the current schema): Alice's offer shared with partners, answered by
    Ben of network B, and accepted."""
    listing = listing_create(
        actor=alice,
        kind="offer",
        title="Theatre shadowing",
        description="A morning in theatres",
        category="shadowing",
        visibility=Listing.Visibility.PARTNERS,
    )
    exchange = x.exchange_respond(
        actor=ben, actor_network=network_b, listing=listing, message="Could I shadow you?"
    )
    x.exchange_accept(actor=alice, exchange=exchange)
    return exchange


def test_an_exchange_across_networks_settles_through_the_federation(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
) -> None:
    alice, _, _, _ = people
    ben = partners
    with tenant_context(network_a):
        exchange = _accepted_partner_exchange(alice, ben, network_b)
        assert exchange.remote_name == "Ben Partner (Network B)"
        assert exchange.receiver is None and exchange.giver == alice
        x.exchange_record_hours(
            actor=alice, exchange=exchange, minutes=90, met_on=timezone.localdate()
        )
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
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    offer: Listing,
) -> None:
    with tenant_context(network_a), pytest.raises(NotFound):
        x.exchange_respond(actor=partners, actor_network=network_b, listing=offer, message="Hi")


def test_networks_that_are_not_partners_cannot_exchange(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    make_member: Callable[..., Member],
) -> None:
    alice = people[0]
    ben = make_member(network_b, full_name="Ben")
    with tenant_context(network_a):
        listing = listing_create(
            actor=alice,
            kind="offer",
            title="Shadowing",
            description="Hi",
            category="shadowing",
            visibility="partners",
        )
        with pytest.raises(x.ExchangeRefused, match="do not exchange time"):
            x.exchange_respond(actor=ben, actor_network=network_b, listing=listing, message="Hi")
        assert not Exchange.objects.exists()


def _shared_with_partners(owner: Member, network: Network) -> Listing:
    """An offer of `owner`'s in `network`, shared with partner networks."""
    with tenant_context(network):
        return listing_create(
            actor=owner,
            kind="offer",
            title="Sepsis teaching",
            description="Ward",
            category="teaching",
            visibility=Listing.Visibility.PARTNERS,
        )


def test_shared_listings_appear_in_partner_search_with_nothing_else(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    offer: Listing,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice = people[0]
    _shared_with_partners(alice, network_a)
    client_b.force_login(partners)
    page = client_b.get("/listings/?q=sepsis")
    assert b"From partner networks" in page.content
    assert b"Sepsis teaching" in page.content and b"Alice Giver (Network A)" in page.content
    assert b"QI coaching" not in client_b.get("/listings/").content  # network-only listing
    api = client_b.get("/api/v1/listings/partners/").json()
    assert [(item["title"], item["owner_name"]) for item in api] == [
        ("Sepsis teaching", "Alice Giver (Network A)")
    ]
    assert set(api[0]) == {
        "network",
        "network_name",
        "id",
        "kind",
        "title",
        "description",
        "category",
        "format",
        "owner_name",
    }
    # A's members see it in their ordinary list; B shares nothing, so A has no partner section.
    client_a.force_login(alice)
    own = client_a.get("/listings/").content
    assert b"Sepsis teaching" in own and b"From partner networks" not in own


def test_a_network_leaving_the_federation_stops_seeing_partner_listings_at_once(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    client_b: NetworkClient,
) -> None:
    """B's place in the federation is kept in B's cache for its search page, and dropped
    when B's place changes, whichever host or console the change is made from."""
    _shared_with_partners(people[0], network_a)
    client_b.force_login(partners)
    assert b"Sepsis teaching" in client_b.get("/listings/?q=sepsis").content  # now kept
    with tenant_context(network_a):  # serving another network: B's key is still dropped
        federation_membership_set(network=network_b, actor=None, opted_in=False)
    assert b"Sepsis teaching" not in client_b.get("/listings/?q=sepsis").content
    federation_membership_set(network=network_b, actor=None, opted_in=True)
    assert b"Sepsis teaching" in client_b.get("/listings/?q=sepsis").content


def test_without_a_partnership_nothing_is_shared(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    listing = _shared_with_partners(people[0], network_a)
    client_b.force_login(make_member(network_b))
    assert b"Sepsis teaching" not in client_b.get("/listings/").content
    assert client_b.get("/api/v1/listings/partners/").json() == []
    url = f"/exchanges/partner/{network_a.slug}/listings/{listing.pk}/"
    assert client_b.get(url).status_code == 404
    assert client_b.post(url + "respond/", {"message": "Hi"}).status_code == 404


def test_a_partner_member_uses_the_api_from_their_own_network(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice, ben = people[0], partners
    with tenant_context(network_a):
        listing = listing_create(
            actor=alice,
            kind="offer",
            title="Theatre shadowing",
            description="A morning",
            category="shadowing",
            visibility=Listing.Visibility.PARTNERS,
        )
    client_b.force_login(ben)
    base = f"/api/v1/exchanges/partner/{network_a.slug}/"
    created = client_b.post(
        base + "respond/",
        {"listing": listing.pk, "message": "May I?"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["your_side"] == "receiver"
    exchange_id = created.json()["id"]
    client_a.force_login(alice)
    client_a.post(f"/api/v1/exchanges/{exchange_id}/accept/")
    client_a.post(
        f"/api/v1/exchanges/{exchange_id}/record/",
        {"minutes": 30, "met_on": timezone.localdate().isoformat()},
        content_type="application/json",
    )
    detail = client_b.get(f"{base}{exchange_id}/").json()
    assert (detail["state"], detail["next_step"]) == ("recorded", "Confirm the hours")
    assert detail["receiver_name"] == "Ben Partner (Network B)"
    done = client_b.post(f"{base}{exchange_id}/confirm/").json()
    assert done["state"] == "completed"
    with tenant_context(network_b):
        assert member_account(ben).balance == 120 - 30
    # Another member of B, and anyone asking about a network that is not a partner, get 404.
    client_b.force_login(make_member(network_b))
    assert client_b.get(f"{base}{exchange_id}/").status_code == 404
    assert client_b.post(f"{base}{exchange_id}/message/", {"body": "Hi"}).status_code == 404
    client_b.force_login(ben)
    assert client_b.get(f"/api/v1/exchanges/partner/nowhere/{exchange_id}/").status_code == 404


def test_a_partner_member_closing_their_account_cancels_the_exchange_hosted_here(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
) -> None:
    alice = people[0]
    ben = partners
    with tenant_context(network_a):
        listing = listing_create(
            actor=alice,
            kind="offer",
            title="Theatre shadowing",
            description="A morning in theatres",
            category="shadowing",
            visibility=Listing.Visibility.PARTNERS,
        )
        exchange = x.exchange_respond(
            actor=ben, actor_network=network_b, listing=listing, message="Could I shadow you?"
        )
    with tenant_context(network_b):
        member_close(actor=ben, password="correct-horse-battery")
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert exchange.state == State.CANCELLED
        assert exchange.remote_name == f"{FORMER_MEMBER_NAME} (Network B)"
        assert exchange.messages.get().author_name == f"{FORMER_MEMBER_NAME} (Network B)"
        told = Notification.objects.get(recipient=alice, key__endswith=":member_closed:giver")
        assert "closed their account" in told.title


def test_a_members_download_holds_their_exchanges_hosted_by_a_partner_and_nothing_else(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    offer: Listing,
) -> None:
    alice = people[0]
    ben = partners
    with tenant_context(network_a):
        listing = listing_create(
            actor=alice,
            kind="offer",
            title="Theatre shadowing",
            description="A morning in theatres",
            category="shadowing",
            visibility=Listing.Visibility.PARTNERS,
        )
        x.exchange_respond(
            actor=ben, actor_network=network_b, listing=listing, message="Could I shadow you?"
        )
    with tenant_context(network_b):
        archive = zipfile.ZipFile(io.BytesIO(member_data_export(actor=ben)))
    data = json.loads(archive.read("data.json"))
    assert [
        (e["hosted_by"], e["listing_title"], e["other_member"], e["your_side"])
        for e in data["exchanges"]
    ] == [("Network A", "Theatre shadowing", "Alice Giver", "receiving help")]
    assert [m["body"] for m in data["exchange_messages"]] == ["Could I shadow you?"]
    assert "QI coaching" not in json.dumps(data)  # Alice's other listing, not Ben's business


def test_a_partner_member_is_invited_by_the_right_name_and_finds_the_meeting_in_their_feed(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
) -> None:
    alice, *_ = people
    ben = partners  # Ben's id in B is Alice's in A: ids are per network
    with tenant_context(network_a):
        exchange = _accepted_partner_exchange(alice, ben, network_b)
        proposal = x.exchange_propose(
            actor=ben,
            actor_network=network_b,
            exchange=exchange,
            starts_at=soon(),
            place="Theatre 3",
        )
        x.exchange_agree(actor=alice, exchange=exchange, proposal_id=proposal.pk)
        to_alice = Notification.objects.exclude(calendar="").get(recipient=alice)
        assert "with Ben Partner" in to_alice.calendar.replace("\r\n ", "")
    with tenant_context(network_b):
        invite = Notification.objects.exclude(calendar="").get(recipient=ben)
        assert "Theatre shadowing (with Alice Giver)" in invite.calendar.replace("\r\n ", "")
        events = calendar_events(member=ben)
    assert [(e.title, e.uid) for e in events] == [
        (
            "Theatre shadowing (with Alice Giver)",
            ics.uid_for("exchange", exchange.pk, network_a.schema_name),
        )
    ]
    assert events[0].url.endswith(f"/exchanges/partner/{network_a.slug}/{exchange.pk}/")
    with tenant_context(network_a):  # nobody else in A has it in their feed
        assert calendar_events(member=people[1]) == []


def test_an_exchange_hosted_by_a_partner_is_in_the_cpd_record_of_its_member(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    make_member: Callable[..., Member],
) -> None:
    alice, *_ = people
    ben = partners
    with tenant_context(network_a):
        exchange = _accepted_partner_exchange(alice, ben, network_b)
        x.exchange_record_hours(
            actor=alice, exchange=exchange, minutes=90, met_on=timezone.localdate()
        )
        x.exchange_confirm(actor=ben, exchange=exchange, actor_network=network_b)
        [given] = cpd_entries(member=alice)
        assert (given.entry.source, given.entry.role) == ("exchange", "gave")
    link = RemoteExchange.objects.get()
    with tenant_context(network_b):
        [received] = cpd_entries(member=ben)
        assert (received.entry.source, received.entry.source_id) == ("partner_exchange", link.pk)
        assert (received.entry.role, received.entry.minutes) == ("received", 90)
        assert received.topic == "Shadowing: Theatre shadowing (with Network A)"
        assert received.entry.url == f"/exchanges/partner/{network_a.slug}/{exchange.pk}/"
        assert cpd_entries(member=make_member(network_b)) == []  # only Ben's


def test_a_members_unfinished_exchanges_are_read_as_the_orm_reads_them(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    partners: Member,
) -> None:
    """The home's exchanges at hand (`UNFINISHED_EXCHANGES`): the exchange whole in its
    model's column order, its listing's shown fields and its sides' names, a partner
    network's member among them, as `Exchange.objects.shown()` reads them; finished and
    disputed ones left out. Ben has nothing at hand in B: the exchange lives in A."""
    assert selected_columns(UNFINISHED_EXCHANGES, "exchange") == [
        field.column for field in Exchange._meta.concrete_fields
    ]
    alice, bob, _, _ = people
    ben = partners
    with tenant_context(network_a):
        partner = _accepted_partner_exchange(alice, ben, network_b)
        responded = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        declined = x.exchange_respond(actor=people[3], listing=offer, message="And me?")
        x.exchange_decline(actor=alice, exchange=declined)
        at_hand = exchanges_at_hand(member=alice)
        assert [w.exchange.pk for w in at_hand.waiting] == [responded.pk, partner.pk]
        mine = member_exchanges(member=alice).exclude(state__in=[*FINAL_STATES, State.DISPUTED])

        def shown(exchanges: Iterable[Exchange]) -> list[tuple[object, ...]]:
            return [
                (
                    e.pk,
                    [getattr(e, f.attname) for f in Exchange._meta.concrete_fields],
                    (e.listing.title, e.listing.kind, e.listing.category, e.listing.format),
                    e.listing.owner_id,
                    e.giver_name,
                    e.receiver_name,
                )
                for e in exchanges
            ]

        read = shown(member_exchanges_unfinished(member=alice))
        assert read == shown(mine)
        assert [row[0] for row in read] == [responded.pk, partner.pk]
        assert read[1][5] == "Ben Partner (Network B)"
    with tenant_context(network_b):
        assert member_exchanges_unfinished(member=ben) == []


def test_an_exchange_is_accessed_as_the_orm_reads_it_with_whether_its_sides_blocked(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    partners: Member,
    make_member: Callable[..., Member],
) -> None:
    """`access_exchange` reads the exchange (`EXCHANGE_SHOWN`) as `Exchange.objects.shown()`
    does, field by field, with its listing's shown fields and its sides' names (a partner
    network's member's too), and whether either side blocked the other, in one query. In
    B, A's exchanges are not found, by Ben (a side of one) or anyone else."""
    assert selected_columns(EXCHANGE_SHOWN, "exchange") == [
        field.column for field in Exchange._meta.concrete_fields
    ]
    alice, bob, _, _ = people
    ben = partners
    with tenant_context(network_a):
        partner = _accepted_partner_exchange(alice, ben, network_b)
        local = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        member_block(actor=bob, member=alice)
        for exchange, member, blocked in ((partner, alice, False), (local, bob, True)):
            with CaptureQueriesContext(connection) as captured:
                read = x.access_exchange(exchange.pk, member=member)
            assert len(reads(captured)) == 1
            orm = Exchange.objects.shown().get(pk=exchange.pk)
            for field in Exchange._meta.concrete_fields:
                assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
            for name in ("title", "kind", "category", "format", "owner_id"):
                assert getattr(read.listing, name) == getattr(orm.listing, name)
            assert (read.giver_name, read.receiver_name) == (orm.giver_name, orm.receiver_name)
            assert x.sides_blocked(read) is blocked
            if exchange.giver_id and exchange.receiver_id:
                assert members_blocked_between(exchange.giver_id, exchange.receiver_id)
        assert partner.receiver_id is None and read.receiver_name  # Ben, by name alone
    with tenant_context(network_b):
        for member in (ben, make_member(network_b)):
            for exchange_id in (local.pk, partner.pk):
                with pytest.raises(NotFound):
                    x.access_exchange(exchange_id, member=member)

"""Blocking: enforced in every path (pages and API), told to nobody, and the selectors other
apps use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.models import State
from core.listings.services import listing_create
from core.members.models import Block
from core.members.selectors import (
    blocked_member_ids,
    blocked_member_ids_query,
    members_blocked_between,
)
from core.members.services import BlockRefused, member_block, member_unblock
from core.notifications.models import Notification

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

JSON = "application/json"


@pytest.fixture
def bobs_request(network_a: Network, people: tuple[Member, Member, Member, Member]) -> Listing:
    bob = people[1]
    with tenant_context(network_a):
        return listing_create(
            actor=bob,
            kind="request",
            title="Help with run charts",
            description="SPC for ward data",
            category="data",
        )


def test_a_block_works_both_ways_and_is_undone(
    network_a: Network, people: tuple[Member, Member, Member, Member]
) -> None:
    alice, bob, _olive, eve = people
    with tenant_context(network_a):
        before = Notification.objects.count()
        block = member_block(actor=alice, member=bob)
        assert member_block(actor=alice, member=bob) == block  # blocking again changes nothing
        assert Notification.objects.count() == before  # nobody is told
        assert members_blocked_between(bob, alice) and members_blocked_between(alice.pk, bob.pk)
        assert blocked_member_ids(bob) == {alice.pk} and blocked_member_ids(alice) == {bob.pk}
        assert blocked_member_ids(eve) == set()
        with pytest.raises(BlockRefused):
            member_block(actor=alice, member=alice)
        assert member_unblock(actor=bob, member=alice) == 0  # only the blocker lifts it
        assert member_unblock(actor=alice, member=bob) == 1
        assert not members_blocked_between(alice, bob)


def test_blocked_members_cannot_respond_or_see_each_others_listings(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    bobs_request: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    client_a.force_login(alice)
    profile = client_a.get(f"/members/{bob.pk}/")
    assert b"Block Bob" in profile.content
    assert client_a.post(f"/members/{bob.pk}/block/").status_code == 302
    assert b"Unblock Bob" in client_a.get(f"/members/{bob.pk}/").content
    # Alice no longer finds Bob's request, nor reaches it.
    assert b"Help with run charts" not in client_a.get("/listings/?q=run+charts").content
    api = client_a.get("/api/v1/listings/?q=run charts").json()
    assert api["results"] == []
    assert client_a.get(f"/listings/{bobs_request.pk}/").status_code == 404

    client_a.force_login(bob)
    # Bob is not told: Alice's profile offers him a block, as for anyone.
    assert b"Block Alice" in client_a.get(f"/members/{alice.pk}/").content
    assert b"QI coaching" not in client_a.get("/listings/").content
    assert client_a.get(f"/listings/{offer.pk}/").status_code == 404
    page = client_a.post(f"/exchanges/respond/{offer.pk}/", {"message": "Hi"})
    assert page.status_code == 404
    api = client_a.post(
        "/api/v1/exchanges/", {"listing": offer.pk, "message": "Hi"}, content_type=JSON
    )
    assert api.status_code == 404 and "block" not in api.json()["detail"].lower()
    with tenant_context(network_a):
        # Straight to the service: the words of a closed listing, nothing of a block.
        with pytest.raises(x.ExchangeRefused) as refused:
            x.exchange_respond(actor=bob, listing=offer, message="Hi")
        assert refused.value.message == "This listing is not open for responses."
        assert not offer.exchanges.exists()

    client_a.force_login(alice)
    client_a.post(f"/members/{bob.pk}/unblock/")
    client_a.force_login(bob)
    assert client_a.get(f"/listings/{offer.pk}/").status_code == 200


def test_an_open_exchange_can_be_finished_but_not_written_in(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Can we meet?")
        x.exchange_accept(actor=alice, exchange=exchange)
        member_block(actor=alice, member=bob)
    client_a.force_login(bob)  # the blocked side
    page = client_a.get(f"/exchanges/{exchange.pk}/")
    assert b"Send message" not in page.content and b"Send suggestion" not in page.content
    assert b"not available in this exchange" in page.content
    assert b"block" not in page.content.lower()
    refused = client_a.post(f"/exchanges/{exchange.pk}/message/", {"body": "Why?"})
    assert refused.status_code == 409 and b"block" not in refused.content.lower()
    api = client_a.post(
        f"/api/v1/exchanges/{exchange.pk}/message/", {"body": "Why?"}, content_type=JSON
    )
    assert api.status_code == 409
    assert api.json()["detail"] == "You cannot send messages in this exchange."
    propose = client_a.post(
        f"/api/v1/exchanges/{exchange.pk}/propose/",
        {"starts_at": "2030-01-01T10:00:00+00:00", "place": "Room 1"},
        content_type=JSON,
    )
    assert propose.status_code == 409 and "block" not in propose.json()["detail"].lower()
    client_a.force_login(alice)  # the blocker is refused alike
    assert client_a.post(f"/exchanges/{exchange.pk}/message/", {"body": "Bye"}).status_code == 409
    assert client_a.post(f"/exchanges/{exchange.pk}/cancel/", {"reason": ""}).status_code == 302
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert exchange.state == State.CANCELLED
        assert exchange.messages.count() == 1


def test_blocks_api_lists_only_ones_own_and_another_network_cannot_block(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice, bob, _, eve = people
    client_a.force_login(alice)
    assert client_a.post(f"/api/v1/members/{bob.pk}/block/").status_code == 201
    assert client_a.post(f"/api/v1/members/{alice.pk}/block/").status_code == 400
    listed = client_a.get("/api/v1/members/blocks/").json()["results"]
    assert [b["member_id"] for b in listed] == [bob.pk]
    client_a.force_login(bob)
    assert client_a.get("/api/v1/members/blocks/").json()["results"] == []
    # A member of network B (its only member, so B's ids stop at theirs): A's members are
    # nobody there.
    ben = make_member(network_b, full_name="Ben B")
    client_b.force_login(ben)
    assert client_b.post(f"/api/v1/members/{bob.pk}/block/").status_code == 404
    assert client_b.post(f"/members/{eve.pk}/block/").status_code == 404
    assert client_b.post(f"/api/v1/members/{bob.pk}/unblock/").status_code == 404
    with tenant_context(network_a):
        assert Block.objects.count() == 1
        assert members_blocked_between(alice, bob)


def test_a_members_data_has_their_reports_and_blocks_and_closing_lifts_blocks(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    from core.privacy.selectors import member_data
    from core.privacy.services import member_close
    from core.safety.services import report_create

    alice, bob, _, eve = people
    with tenant_context(network_a):
        report_create(
            actor=bob, target_kind="listing", target_id=offer.pk, category="spam", details="Selling"
        )
        member_block(actor=bob, member=eve)
        member_block(actor=alice, member=bob)
        data = member_data(member=bob, network=network_a)
        assert [(r["target_kind"], r["details"]) for r in data["reports_made"]] == [
            ("listing", "Selling")
        ]
        assert [b["blocked_id"] for b in data["blocks"]] == [eve.pk]  # not Alice's block of Bob
        assert member_data(member=alice, network=network_a)["reports_made"] == []
        member_close(actor=bob, password="correct-horse-battery")
        assert not Block.objects.exists()


def test_the_blocked_ids_subquery_reads_the_blocks_alone(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    make_member: Callable[..., Member],
) -> None:
    """Both directions, as `blocked_member_ids` gives them, from members_block alone (it
    had scanned every member); a block in network B means nothing in A."""
    alice, bob, olive, eve = people
    stranger = make_member(network_b)
    with tenant_context(network_b):
        member_block(actor=stranger, member=make_member(network_b))
    with tenant_context(network_a):
        member_block(actor=alice, member=bob)
        member_block(actor=olive, member=alice)
        member_block(actor=bob, member=eve)
        ids = blocked_member_ids_query(alice)
        assert sorted(ids) == sorted(blocked_member_ids(alice)) == sorted([bob.pk, olive.pk])
        assert "members_member" not in str(ids.query)
        assert sorted(blocked_member_ids_query(eve)) == [bob.pk]

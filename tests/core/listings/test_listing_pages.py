"""Managing listings from the pages: the poster edits theirs, organisers hide one with a
reason, and the pages link a listing to its poster and members to their own listings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.listings.models import Listing
from core.listings.services import listing_create
from core.members.models import Role

from .test_listings import SEPSIS

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


@pytest.fixture
def alice(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Alice Adeyemi", profession="nurse")


@pytest.fixture
def listing(network_a: Network, alice: Member) -> Listing:
    with tenant_context(network_a):
        return listing_create(actor=alice, **SEPSIS)


def _form(listing: Listing, **changes: Any) -> dict[str, Any]:
    fields = {
        name: getattr(listing, name)
        for name in (
            "kind",
            "title",
            "description",
            "category",
            "format",
            "location",
            "duration_minutes",
            "visibility",
        )
    }
    return {name: "" if value is None else value for name, value in {**fields, **changes}.items()}


def test_the_poster_edits_their_listing_from_its_page(
    network_a: Network, alice: Member, listing: Listing, client_a: NetworkClient
) -> None:
    client_a.force_login(alice)
    detail = client_a.get(f"/listings/{listing.pk}/").content.decode()
    assert f'href="/listings/{listing.pk}/edit/"' in detail
    page = client_a.get(f"/listings/{listing.pk}/edit/")
    assert page.status_code == 200 and SEPSIS["title"] in page.content.decode()
    response = client_a.post(
        f"/listings/{listing.pk}/edit/", _form(listing, title="Sepsis teaching, now monthly")
    )
    assert response.status_code == 302 and response["Location"] == f"/listings/{listing.pk}/"
    with tenant_context(network_a):
        listing.refresh_from_db()
    assert listing.title == "Sepsis teaching, now monthly"
    assert listing.description == SEPSIS["description"]
    refused = client_a.post(f"/listings/{listing.pk}/edit/", _form(listing, title=""))
    assert refused.status_code == 200 and "error" in refused.content.decode()
    with tenant_context(network_a):
        listing.refresh_from_db()
    assert listing.title == "Sepsis teaching, now monthly"  # nothing half-written


def test_nobody_else_can_edit_it_here_or_from_another_network(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    listing: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    client_a.force_login(make_member(network_a))
    assert client_a.get(f"/listings/{listing.pk}/edit/").status_code == 404
    assert (
        client_a.post(f"/listings/{listing.pk}/edit/", _form(listing, title="Mine now")).status_code
        == 404
    )
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    assert client_b.get(f"/listings/{listing.pk}/edit/").status_code == 404
    assert client_b.post(f"/listings/{listing.pk}/hide/", {"reason": "spam"}).status_code == 404
    with tenant_context(network_a):
        listing.refresh_from_db()
    assert listing.title == SEPSIS["title"] and listing.hidden_reason == ""


def test_an_organiser_hides_a_listing_from_its_page_saying_why(
    network_a: Network,
    make_member: Callable[..., Member],
    listing: Listing,
    client_a: NetworkClient,
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    assert "Hide this listing" not in client_a.get(f"/listings/{listing.pk}/").content.decode()
    client_a.post(f"/listings/{listing.pk}/hide/", {"reason": "Not allowed"})
    with tenant_context(network_a):
        assert Listing.objects.get(pk=listing.pk).hidden_reason == ""

    organiser = make_member(network_a, role=Role.ORGANISER)
    client_a.force_login(organiser)
    assert "Hide this listing" in client_a.get(f"/listings/{listing.pk}/").content.decode()
    empty = client_a.post(f"/listings/{listing.pk}/hide/", {"reason": ""}, follow=True)
    assert "say why" in empty.content.decode()
    hidden = client_a.post(f"/listings/{listing.pk}/hide/", {"reason": "Advertises a course"})
    assert hidden.status_code == 302
    with tenant_context(network_a):
        assert Listing.objects.get(pk=listing.pk).hidden_reason == "Advertises a course"
        assert AuditEvent.objects.filter(verb="listing.hide", actor_id=organiser.pk).exists()


def test_pages_link_a_listing_to_its_poster_and_members_to_their_listings(
    network_a: Network,
    alice: Member,
    make_member: Callable[..., Member],
    listing: Listing,
    client_a: NetworkClient,
) -> None:
    client_a.force_login(make_member(network_a))
    detail = client_a.get(f"/listings/{listing.pk}/").content.decode()
    assert f'href="/members/{alice.pk}/"' in detail
    assert 'href="/listings/mine/"' in client_a.get("/listings/").content.decode()
    client_a.force_login(alice)
    mine = client_a.get("/listings/mine/").content.decode()
    assert f'href="/listings/{listing.pk}/edit/"' in mine

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.models import Permission
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, connections, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.listings.models import Listing
from core.listings.selectors import (
    LISTING_COLUMNS,
    LISTINGS_BROWSED,
    LISTINGS_SEARCHED,
    listing_search,
    listing_suggestions,
)
from core.listings.services import (
    ListingRefused,
    listing_create,
    listing_hide,
    listing_settings_get,
    listing_settings_set,
    listing_status_set,
    listing_update,
)
from core.members.selectors import blocked_member_ids
from core.members.services import member_block
from kernel.errors import PermissionDenied
from tests.conftest import selected_columns

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import Settings

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

SEPSIS: dict[str, Any] = {
    "kind": "offer",
    "title": "Sepsis recognition teaching for ward teams",
    "description": "I run a 45-minute session on NEWS2 and the sepsis six for nursing teams.",
    "category": "teaching",
    "format": "in_person",
    "duration_minutes": 45,
}
RUN_CHARTS = {
    "kind": "request",
    "title": "Help building run charts for a falls project",
    "description": "Our QI project needs someone to show us run charts and SPC in Excel.",
    "category": "data",
    "format": "video",
    "duration_minutes": 60,
}


@pytest.fixture
def alice(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Alice Adeyemi", profession="nurse")


def test_search_ranks_by_relevance_and_filters(
    network_a: Network, alice: Member, make_member: Callable[..., Member]
) -> None:
    ben = make_member(network_a, full_name="Ben Begum", profession="doctor", skills=["run charts"])
    with tenant_context(network_a):
        listing_create(actor=alice, **SEPSIS)
        wanted = listing_create(actor=alice, **RUN_CHARTS)
        listing_create(
            actor=alice,
            **{
                **SEPSIS,
                "title": "Coffee and chat",
                "description": "Informal chat about sepsis audits.",
                "category": "wellbeing",
            },
        )
        titles = [listing.title for listing in listing_search(query="sepsis")]
        assert titles[0] == "Sepsis recognition teaching for ward teams"  # title outranks body
        assert len(titles) == 2
        assert [x.title for x in listing_search(query="run charts")] == [RUN_CHARTS["title"]]
        assert [x.title for x in listing_search(kind="request")] == [RUN_CHARTS["title"]]
        assert [x.kind for x in listing_search(category="teaching")] == ["offer"]
        assert list(listing_search(profession="doctor")) == []
        assert len(listing_search(profession="nurse")) == 3
        assert list(listing_suggestions(member=ben)) == [wanted]


def _search_by_orm(
    *,
    query: str = "",
    kind: str = "",
    category: str = "",
    format: str = "",
    profession: str = "",
    viewer: Member | None = None,
    partners_only: bool = False,
) -> list[Listing]:
    """What search shows, asked of the ORM: what LISTINGS_SEARCHED and LISTINGS_BROWSED
    are held to."""
    listings = Listing.objects.filter(status="open", hidden_reason="").select_related("owner")
    if viewer is not None:
        listings = listings.exclude(owner_id__in=blocked_member_ids(viewer))
    for name, value in (("kind", kind), ("category", category), ("owner__profession", profession)):
        if value:
            listings = listings.filter(**{name: value})
    if format:
        listings = listings.filter(format__in=[format, "any"])
    if partners_only:
        listings = listings.filter(visibility="partners")
    if not query.strip():
        return list(listings.order_by("-created_at", "-id"))
    words = SearchQuery(query, search_type="websearch", config="english")
    ranked = listings.filter(search_vector=words).annotate(
        rank=SearchRank(F("search_vector"), words)
    )
    return list(ranked.order_by("-rank", "-created_at", "-id"))


def test_search_reads_what_the_orm_would_for_every_filter(
    network_a: Network, network_b: Network, alice: Member, make_member: Callable[..., Member]
) -> None:
    """Each filter, alone and together, and words in websearch's syntax (phrases, OR, -,
    stop words, quotes left open): the same listings in the same order as the ORM's, each
    field equal, its owner's name read with it. Closed, hidden and blocked owners' listings
    are left out; B's member finds none of A's."""
    ben = make_member(network_a, full_name="Ben Begum", profession="doctor")
    eve = make_member(network_a, full_name="Eve Evans", profession="doctor")
    organiser = make_member(network_a, role="organiser")
    with tenant_context(network_a):
        listing_create(actor=alice, **SEPSIS)
        listing_create(actor=alice, **{**RUN_CHARTS, "visibility": "partners"})
        listing_create(actor=ben, **{**SEPSIS, "title": "Sepsis audit", "format": "any"})
        listing_create(actor=ben, **{**RUN_CHARTS, "description": "Sepsis run charts."})
        listing_create(actor=eve, **{**SEPSIS, "title": "Sepsis simulation"})
        closed = listing_create(actor=ben, **{**SEPSIS, "title": "Sepsis closed"})
        listing_status_set(actor=ben, listing=closed, status="closed")
        hidden = listing_create(actor=ben, **{**SEPSIS, "title": "Sepsis hidden"})
        listing_hide(actor=organiser, listing=hidden, reason="Advertising.")
        member_block(actor=eve, member=alice)
        filters: list[dict[str, Any]] = [
            {},
            {"query": "sepsis"},
            {"query": "sepsis", "viewer": alice},
            {"query": "sepsis", "viewer": ben},
            {"query": "run charts", "kind": "request"},
            {"query": '"run charts" OR simulation -audit'},
            {"query": "the"},
            {"query": "'; DROP TABLE listings_listing; --"},
            {"query": '"sepsis'},
            {"category": "data"},
            {"format": "in_person"},
            {"profession": "doctor", "viewer": alice},
            {"partners_only": True},
            {"query": "sepsis", "kind": "offer", "format": "video", "profession": "doctor"},
        ]
        for given in filters:
            expected = _search_by_orm(**given)
            found = list(listing_search(**given))
            assert [x.pk for x in found] == [x.pk for x in expected], given
            for ours, theirs in zip(found, expected, strict=True):
                assert [getattr(ours, name) for name in LISTING_COLUMNS] == [
                    getattr(theirs, name) for name in LISTING_COLUMNS
                ]
                assert ours.owner.full_name == theirs.owner.full_name
        assert {x.title for x in listing_search(query="sepsis", viewer=alice)} == {
            SEPSIS["title"],
            "Sepsis audit",
            "Help building run charts for a falls project",
        }
    with tenant_context(network_b):
        stranger = make_member(network_b)
        assert list(listing_search(query="sepsis", viewer=stranger)) == []
        assert len(listing_search()) == 0


def test_search_reads_each_listing_column_but_its_search_vector() -> None:
    """The page's columns, in the order from_db takes them, are the listing's all but its
    search vector (left in the database, where the search uses it)."""
    every = [field.attname for field in Listing._meta.concrete_fields]
    assert [name for name in every if name != "search_vector"] == LISTING_COLUMNS
    for sql in (LISTINGS_SEARCHED, LISTINGS_BROWSED):
        page = sql[sql.index("SELECT total.n") :]
        assert selected_columns(page, "page") == [*LISTING_COLUMNS, "full_name"]


def test_the_search_index_is_written_through_in_every_network(
    network_a: Network, network_b: Network
) -> None:
    """No search reads GIN's pending list of entries not yet merged (listings 0005)."""
    for network in (network_a, network_b):
        with tenant_context(network), connection.cursor() as cursor:
            cursor.execute(
                "SELECT reloptions FROM pg_class WHERE oid = 'listing_search_idx'::regclass"
            )
            assert cursor.fetchone() == (["fastupdate=off"],)


def test_pages_and_api_create_and_find_listings(
    network_a: Network, alice: Member, client_a: NetworkClient
) -> None:
    client_a.force_login(alice)
    created = client_a.post("/api/v1/listings/", SEPSIS, content_type="application/json")
    assert created.status_code == 201, created.content
    listing_id = created.json()["id"]
    found = client_a.get("/api/v1/listings/?q=sepsis").json()
    assert [r["id"] for r in found["results"]] == [listing_id]
    # `format` filters listings; DRF must not read it as a renderer name (that was a 404).
    assert client_a.get("/api/v1/listings/?format=video").json()["results"] == []
    in_person = client_a.get("/api/v1/listings/?format=in_person&category=teaching").json()
    assert [r["id"] for r in in_person["results"]] == [listing_id]
    page = client_a.get("/listings/?q=sepsis&kind=offer")
    assert b"Sepsis recognition teaching" in page.content
    form = client_a.post("/listings/new/", {**RUN_CHARTS, "visibility": "network"})
    assert form.status_code == 302
    assert b"Help building run charts" in client_a.get(form["Location"]).content


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"category": "astrology"}, "Choose a category"),
        ({"title": "x" * 10_000}, "10,000 characters long; the limit is 120"),
        ({"duration_minutes": 50}, "steps of 15 minutes"),
        ({"kind": "barter"}, "Choose a kind"),
        ({"title": ""}, "give your listing a title"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    network_a: Network, alice: Member, client_a: NetworkClient, change: dict[str, Any], message: str
) -> None:
    client_a.force_login(alice)
    response = client_a.post(
        "/api/v1/listings/", {**SEPSIS, **change}, content_type="application/json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    with tenant_context(network_a):
        assert not Listing.objects.exists()


def test_script_in_the_text_is_not_stored(network_a: Network, alice: Member) -> None:
    with (
        pytest.raises(ListingRefused, match="Write plain text") as refused,
        tenant_context(network_a),
    ):
        listing_create(actor=alice, **{**SEPSIS, "description": "<script>alert(1)</script>Hi"})
    assert refused.value.field == "description"
    with pytest.raises(ListingRefused), tenant_context(network_a):
        listing_create(actor=alice, **{**SEPSIS, "title": "<b></b>"})
    with tenant_context(network_a):
        assert not Listing.objects.exists()


def test_only_the_owner_edits_or_closes(
    network_a: Network, alice: Member, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        listing = listing_create(actor=alice, **SEPSIS)
    client_a.force_login(make_member(network_a))
    assert (
        client_a.patch(
            f"/api/v1/listings/{listing.pk}/",
            {"title": "Mine now"},
            content_type="application/json",
        ).status_code
        == 403
    )
    assert (
        client_a.post(f"/api/v1/listings/{listing.pk}/status/", {"status": "closed"}).status_code
        == 403
    )
    client_a.force_login(alice)
    assert (
        client_a.post(f"/api/v1/listings/{listing.pk}/status/", {"status": "closed"}).status_code
        == 200
    )
    with tenant_context(network_a):
        assert list(listing_search()) == []  # closed listings leave the search


def test_organisers_hide_with_a_reason_and_it_is_audited(
    network_a: Network, alice: Member, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    organiser = make_member(network_a)
    with tenant_context(network_a):
        organiser.user_permissions.add(Permission.objects.get(codename="moderate_listing"))
        listing = listing_create(actor=alice, **SEPSIS)
    client_a.force_login(make_member(network_a))
    assert client_a.post(f"/api/v1/listings/{listing.pk}/hide/", {"reason": "x"}).status_code == 403
    client_a.force_login(organiser)
    assert client_a.post(f"/api/v1/listings/{listing.pk}/hide/", {"reason": ""}).status_code == 400
    response = client_a.post(
        f"/api/v1/listings/{listing.pk}/hide/", {"reason": "Advertises a paid course"}
    )
    assert response.status_code == 200
    with tenant_context(network_a):
        assert AuditEvent.objects.get(verb="listing.hide").reason == "Advertises a paid course"
        assert list(listing_search(query="sepsis")) == []
    client_a.force_login(alice)  # the owner still sees it, and why
    assert b"Advertises a paid course" in client_a.get(f"/listings/{listing.pk}/").content


def test_an_edit_from_a_stale_copy_never_unhides_a_moderated_listing(
    network_a: Network, alice: Member, make_member: Callable[..., Member]
) -> None:
    organiser = make_member(network_a)
    with tenant_context(network_a):
        organiser.user_permissions.add(Permission.objects.get(codename="moderate_listing"))
        listing = listing_create(actor=alice, **SEPSIS)
        owners_copy = Listing.objects.get(pk=listing.pk)  # the owner's edit form, loaded now
        listing_hide(actor=organiser, listing=listing, reason="Advertises a paid course")
        # The owner saves their edit, and pauses the listing, from the copy loaded before.
        edited = listing_update(actor=alice, listing=owners_copy, title="Sepsis teaching")
        listing_status_set(actor=alice, listing=owners_copy, status="paused")
        stored = Listing.objects.get(pk=listing.pk)
        assert stored.hidden_reason == "Advertises a paid course"  # still hidden
        assert (stored.title, stored.status) == ("Sepsis teaching", "paused")
        assert edited.hidden_reason == "Advertises a paid course"  # the fresh row comes back
        assert list(listing_search(query="sepsis")) == []


@pytest.mark.django_db(transaction=True)
def test_an_edit_waits_for_a_locked_listing_only_so_long_then_says_try_again(
    network_a: Network, alice: Member, client_a: NetworkClient, settings: Settings
) -> None:
    settings.HEXITIME_LOCK_TIMEOUT_MS = 200
    with tenant_context(network_a):
        listing = listing_create(actor=alice, **SEPSIS)
    holding, release = threading.Event(), threading.Event()

    def moderator_at_work() -> None:  # holds the row, as a slow listing_hide would
        try:
            with tenant_context(network_a), transaction.atomic():
                Listing.objects.select_for_update().get(pk=listing.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=moderator_at_work)
    holder.start()
    assert holding.wait(timeout=30)
    client_a.force_login(alice)
    try:
        response = client_a.patch(
            f"/api/v1/listings/{listing.pk}/", {"title": "Renamed"}, content_type="application/json"
        )
    finally:
        release.set()
        holder.join(timeout=30)
    assert response.status_code == 409
    assert "try again" in response.json()["detail"]
    with tenant_context(network_a):
        assert Listing.objects.get(pk=listing.pk).title == SEPSIS["title"]


def test_another_network_cannot_see_search_edit_or_guess_listings(
    network_a: Network,
    network_b: Network,
    alice: Member,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    with tenant_context(network_a):
        listing = listing_create(actor=alice, **SEPSIS)
    client_b.force_login(make_member(network_b))
    assert client_b.get("/api/v1/listings/?q=sepsis").json()["results"] == []
    assert client_b.get(f"/api/v1/listings/{listing.pk}/").status_code == 404
    assert (
        client_b.patch(
            f"/api/v1/listings/{listing.pk}/", {"title": "Taken"}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client_b.get(f"/listings/{listing.pk}/").status_code == 404
    assert b"Sepsis" not in client_b.get("/listings/?q=sepsis").content
    with tenant_context(network_a):
        assert Listing.objects.get(pk=listing.pk).title == SEPSIS["title"]


def test_search_query_count_does_not_grow_with_results(
    network_a: Network, alice: Member, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(alice)
    counts = []
    for batch in (2, 20):
        with tenant_context(network_a):
            for n in range(batch):
                owner = make_member(network_a)
                listing_create(actor=owner, **{**SEPSIS, "title": f"Sepsis teaching {batch}-{n}"})
        with CaptureQueriesContext(connection) as queries:
            response = client_a.get("/api/v1/listings/?q=sepsis")
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_visitors_who_are_not_signed_in_see_no_listings(
    network_a: Network, alice: Member, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        listing_create(actor=alice, **SEPSIS)
    page = client_a.get("/listings/?q=sepsis")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/login/?next=/listings/%3Fq%3Dsepsis"
    assert client_a.get("/api/v1/listings/").status_code in (401, 403)


def test_a_public_listings_page_is_an_organisers_choice_and_shows_no_names(
    network_a: Network,
    network_b: Network,
    alice: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    olive = make_member(network_a, role="organiser")
    theirs = make_member(network_b, full_name="Bea Brown")
    with tenant_context(network_a):
        listing_create(actor=alice, **SEPSIS)
        with pytest.raises(PermissionDenied):
            listing_settings_set(actor=alice, public_page=True)
    with tenant_context(network_b):
        listing_create(actor=theirs, **RUN_CHARTS)
    client_a.force_login(alice)
    assert client_a.post("/listings/settings/", {"public_page": "on"}).status_code == 403
    client_a.force_login(olive)
    assert client_a.post("/listings/settings/", {"public_page": "on"}).status_code == 302
    with tenant_context(network_a):
        assert listing_settings_get().public_page is True
        assert AuditEvent.objects.filter(verb="listing_settings.change").count() == 1
    client_a.logout()
    public = client_a.get("/listings/")
    assert public.status_code == 200
    assert b"Sepsis recognition teaching" in public.content
    assert b"Alice Adeyemi" not in public.content
    assert client_a.get("/listings/?q=sepsis").status_code == 200
    # Another network's page stays for its members, whatever network A chose.
    elsewhere = client_b.get("/listings/")
    assert elsewhere.status_code == 302
    assert b"Run charts" not in elsewhere.content and b"Bea Brown" not in elsewhere.content
    # Members still see who posted.
    client_a.force_login(alice)
    assert b"Alice Adeyemi" in client_a.get("/listings/").content

"""Pages read with their total in one query (kernel.pagination): the same pages, totals
and refusals as Django's Paginator, one query fewer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.listings.models import Listing
from core.listings.selectors import listing_search
from core.listings.services import listing_create
from kernel.db import connection
from kernel.pagination import CountingPaginator
from tests.conftest import reads

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

SEPSIS = {
    "kind": Listing.Kind.OFFER,
    "title": "Sepsis teaching",
    "description": "Spotting sepsis early on the ward.",
    "category": Listing.Category.TEACHING,
}


def _post(owner: Member, count: int) -> None:
    for n in range(count):
        listing_create(actor=owner, **{**SEPSIS, "title": f"Sepsis teaching {n}"})


@pytest.mark.parametrize("source", ["queryset", "search"])
def test_every_page_and_its_total_as_djangos_paginator_gives_them(
    network_a: Network, make_member: Callable[..., Member], source: str
) -> None:
    """A queryset, and search's rows read by SQL written once (`CountedRows`), each a page
    and its total in one query; Django's Paginator counts them and slices them apart."""
    with tenant_context(network_a):
        _post(make_member(network_a), 7)
        found = (
            Listing.objects.filter(title__startswith="Sepsis")
            if source == "queryset"
            else listing_search(query="sepsis")
        )
        theirs = Paginator(found, 3)
        for number in (1, 2, 3):
            ours = CountingPaginator(found, 3)
            with CaptureQueriesContext(connection) as captured:
                page = ours.page(number)
                assert ours.count == 7
                assert ours.num_pages == 3
                titles = [listing.title for listing in page]
            (page_sql,) = reads(captured)  # the page with its total
            if source == "queryset":
                # The total counts the rows' ids, so only the page's rows are read whole.
                assert 'SELECT count(*) FROM (SELECT U0."id" AS "pk" FROM' in page_sql
            else:
                assert "SELECT count(*) AS n FROM matches" in page_sql
            assert " OVER " not in page_sql
            assert titles == [listing.title for listing in theirs.page(number)]
            assert len(titles) == (3 if number < 3 else 1)
            assert page.has_next() == (number < 3)


def test_past_the_end_and_bad_numbers_are_refused_as_django_refuses_them(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    with tenant_context(network_a):
        _post(make_member(network_a), 4)
        found = listing_search()
        with pytest.raises(EmptyPage):
            CountingPaginator(found, 2).page(3)
        with pytest.raises(EmptyPage):
            CountingPaginator(found, 2).page(0)
        with pytest.raises(PageNotAnInteger):
            CountingPaginator(found, 2).page("two")
        with pytest.raises(PageNotAnInteger):
            CountingPaginator(found, 2).page("1.5")
        with pytest.raises(EmptyPage):  # an OFFSET past PostgreSQL's bigint
            CountingPaginator(found, 2).page(849701034209045993488384)
        assert CountingPaginator(found, 2).page("2").number == 2
        last = CountingPaginator(found, 2).get_page(9)  # past the end: the last page
        assert (last.number, len(last)) == (2, 2)
        assert CountingPaginator(found, 2).get_page("x").number == 1

        nothing = CountingPaginator(listing_search(query="dermatology"), 2)
        with CaptureQueriesContext(connection) as captured:
            empty = nothing.get_page(1)
        assert (nothing.count, len(empty), len(reads(captured))) == (0, 0, 1)


def test_what_a_total_beside_the_rows_cannot_count_is_counted_apart(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    with tenant_context(network_a):
        _post(make_member(network_a), 3)
        for rows, total in (
            (Listing.objects.values("title").order_by("title"), 3),
            (Listing.objects.order_by("owner_id").distinct("owner_id"), 1),  # one owner
        ):
            with CaptureQueriesContext(connection) as captured:
                paginator = CountingPaginator(rows, 2)
                assert len(paginator.page(1)) == min(total, 2)
                assert paginator.count == total
            assert len(reads(captured)) == 2, "counted, then read"
        assert list(CountingPaginator([1, 2, 3], 2).page(2)) == [3]


def test_the_api_counts_only_the_members_own_network(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    with tenant_context(network_a):
        _post(make_member(network_a), 3)
    with tenant_context(network_b):
        _post(make_member(network_b), 1)
    client_a.force_login(make_member(network_a))
    client_b.force_login(make_member(network_b))

    page_a = client_a.get("/api/v1/listings/?q=sepsis&page_size=2").json()
    assert page_a["count"] == 3
    page_b = client_b.get("/api/v1/listings/?q=sepsis").json()
    assert page_b["count"] == 1
    assert [row["title"] for row in page_b["results"]] == ["Sepsis teaching 0"]
    assert client_b.get("/api/v1/listings/?q=sepsis&page=2").status_code == 404

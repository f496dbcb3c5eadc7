"""The impact dashboard: tables, charts' data, CSV downloads, isolation."""

from __future__ import annotations

import csv
import datetime
import io
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.listings.services import listing_create
from core.members.models import Member
from core.members.services import member_profile_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client
    from pytest_django import DjangoAssertNumQueries

    from tenants.models import Network
    from tests.conftest import NetworkClient


def _csv(client: Client, name: str, query: str = "") -> list[list[str]]:
    response = client.get(f"/insights/impact/{name}.csv{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="hexitime-{name}.csv"' in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_hours_per_month_and_cumulative(client_a: NetworkClient, cast: dict[str, Member]) -> None:
    client_a.force_login(cast["ben"])
    now = timezone.localtime()
    assert _csv(client_a, "hours") == [
        ["month", "exchanges", "hours", "cumulative hours", "volunteering hours"],
        ["2025-03", "1", "1.0", "1.0", "0.0"],
        ["2025-04", "1", "1.5", "2.5", "0.0"],
        [f"{now:%Y-%m}", "1", "0.5", "3.0", "0.0"],
    ]
    # Within a range the cumulative starts at the range.
    assert _csv(client_a, "hours", "?start=2025-04-01&end=2025-12-31")[1:] == [
        ["2025-04", "1", "1.5", "1.5", "0.0"]
    ]


def test_exchanges_by_category_and_format(client_a: NetworkClient, cast: dict[str, Member]) -> None:
    client_a.force_login(cast["ben"])
    assert _csv(client_a, "categories") == [
        ["category", "exchanges", "hours"],
        ["Coaching", "2", "1.5"],
        ["Teaching", "1", "1.5"],
    ]
    assert _csv(client_a, "formats") == [
        ["format", "exchanges", "hours"],
        ["Video call", "2", "1.5"],
        ["In person", "1", "1.5"],
    ]


def test_members_joined_per_month(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    with tenant_context(network_a):
        Member.objects.filter(pk=cast["ada"].pk).update(
            date_joined=datetime.datetime(2024, 12, 1, 12, tzinfo=datetime.UTC)
        )
    client_a.force_login(cast["ben"])
    now = timezone.localtime()
    assert _csv(client_a, "members") == [
        ["month", "joined", "cumulative"],
        ["2024-12", "1", "1"],
        [f"{now:%Y-%m}", "4", "5"],
    ]


def test_skills_gap_from_listings_and_profiles(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    with tenant_context(network_a):
        for kind, category in [
            ("request", "data"),
            ("request", "data"),
            ("offer", "data"),
            ("request", "mentoring"),
        ]:
            listing_create(
                actor=cast["ben"], kind=kind, title="Help", description="Help", category=category
            )
        member_profile_update(actor=cast["cy"], skills=["Data and measurement", "mentoring"])
        member_profile_update(actor=cast["ben"], skills=["mentoring"])
    client_a.force_login(cast["ben"])
    rows = _csv(client_a, "skills")
    assert rows[0] == ["skill", "offers", "requests", "members with the skill", "gap"]
    # (The cast's own listings are open offers of coaching and teaching.)
    by_skill = {row[0]: row[1:] for row in rows[1:]}
    assert by_skill["Data and measurement"] == ["1", "2", "1", "1"]
    assert by_skill["Mentoring"] == ["0", "1", "2", "1"]
    assert rows[1][0] in {"Data and measurement", "Mentoring"}  # largest gap first


def test_page_shows_each_chart_with_its_table_and_csv_link(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    client_a.force_login(cast["ben"])
    page = client_a.get("/insights/impact/").content.decode()
    assert "<h1>Impact</h1>" in page
    for name in ("hours", "members", "categories", "formats"):
        assert f'id="{name}-chart"' in page and f'id="{name}-table"' in page
        assert f'href="/insights/impact/{name}.csv"' in page
        assert f'<script id="{name}" type="application/json">' in page
    assert 'href="/insights/impact/skills.csv"' in page


def test_bad_dates_and_unknown_tables(client_a: NetworkClient, cast: dict[str, Member]) -> None:
    client_a.force_login(cast["ben"])
    assert client_a.get("/insights/impact/secrets.csv").status_code == 404
    response = client_a.get("/insights/impact/hours.csv?start=2025-05-01&end=2025-01-01")
    assert response.status_code == 400
    assert b"start date must be on or before" in response.content
    page = client_a.get("/insights/impact/?start=nonsense")
    assert b"There is a problem" in page.content and b"-chart" not in page.content


def test_signed_out_visitors_are_sent_to_sign_in(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    assert client_a.get("/insights/impact/").status_code == 302
    assert client_a.get("/insights/impact/hours.csv").status_code == 302


def test_another_networks_figures_never_count(
    client_b: NetworkClient,
    network_b: Network,
    make_member: Callable[..., Member],
    cast: dict[str, Member],
) -> None:
    bea = make_member(network_b)
    client_b.force_login(bea)
    assert _csv(client_b, "hours") == [
        ["month", "exchanges", "hours", "cumulative hours", "volunteering hours"]
    ]
    assert _csv(client_b, "members")[1:] == [[f"{timezone.localtime():%Y-%m}", "1", "1"]]


@pytest.mark.parametrize("name", ["hours", "members", "categories", "formats", "skills"])
def test_each_csv_costs_a_fixed_number_of_queries(
    client_a: NetworkClient,
    cast: dict[str, Member],
    name: str,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client_a.force_login(cast["ben"])
    # Middleware 3, session, member, and 1-3 for the table (exchanges hosted here and
    # on partners' listings, and volunteering: the same edges as the map's).
    with django_assert_max_num_queries(8):
        client_a.get(f"/insights/impact/{name}.csv")


def test_impact_counts_what_the_map_and_metrics_count(
    client_a: NetworkClient,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    cast: dict[str, Member],
) -> None:
    """One definition: exchanges (also those our members had on partners' listings) are
    exchanges; confirmed project hours are volunteering, in their own column."""
    from core.exchanges import services as x
    from core.insights.metrics import metrics_compute
    from core.insights.selectors.edges import network_edges, people
    from core.insights.selectors.map import DateRange
    from core.listings.models import Listing
    from core.listings.services import listing_create
    from core.members.models import Role
    from core.members.services import member_set_role
    from core.projects.services import (
        project_fund,
        project_propose,
        volunteer_confirm_hours,
        volunteer_pledge,
    )
    from ledger.federation.services import federation_membership_set, federation_partner_add
    from ledger.services import gift_grant
    from tests.conftest import upgrade

    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=600)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    bea = make_member(network_b, full_name="Bea Elsewhere")
    today = timezone.localdate()
    with tenant_context(network_b):
        gift_grant(member=bea)
        listing = listing_create(
            actor=bea,
            kind="offer",
            title="Theatre shadowing",
            description="A morning",
            category="shadowing",
            visibility=Listing.Visibility.PARTNERS,
        )
        exchange = x.exchange_respond(
            actor=cast["cy"], actor_network=network_a, listing=listing, message="May I?"
        )
        x.exchange_accept(actor=bea, exchange=exchange)
        x.exchange_record_hours(actor=bea, exchange=exchange, minutes=60, met_on=today)
        x.exchange_confirm(actor=cast["cy"], exchange=exchange, actor_network=network_a)
    ben, olive = cast["ben"], cast["olive"]
    with tenant_context(network_a):
        member_set_role(actor=olive, member=ben, role=Role.QI_LEAD)
        ben.refresh_from_db()
        project = project_fund(
            actor=olive,
            project=project_propose(
                actor=ben,
                title="Falls",
                aim="Fewer falls",
                description="Ward 7",
                budget_minutes=600,
                starts_on=today,
                ends_on=today,
                skills_wanted=[],
            ),
        )
        volunteer = volunteer_pledge(actor=cast["ada"], project=project, pledged_minutes=120)
        volunteer_confirm_hours(
            actor=ben, project=project, volunteer=volunteer, minutes=45, worked_on=today, key="ada"
        )
        metrics = metrics_compute(network_edges(dates=DateRange()), people())
    client_a.force_login(ben)
    rows = _csv(client_a, "hours")[1:]
    assert rows[-1] == [f"{timezone.localtime():%Y-%m}", "2", "1.5", "4.0", "0.75"]
    assert sum(int(row[1]) for row in rows) == metrics["exchanges"] == 4
    assert float(rows[-1][3]) * 60 == metrics["minutes_exchanged"]
    assert float(rows[-1][4]) * 60 == metrics["minutes_volunteered"]
    assert ["Shadowing", "1", "1.0"] in _csv(client_a, "categories")

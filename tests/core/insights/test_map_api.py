"""The network map's JSON and page: privacy, isolation, date ranges, query counts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.listings.models import Listing
from core.listings.services import listing_create
from core.members.services import member_profile_update
from ledger.federation.services import federation_membership_set, federation_partner_add
from ledger.services import gift_grant
from tests.conftest import upgrade

from .conftest import complete, map_get, map_prepare

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import DjangoAssertNumQueries

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

MAP = "/api/v1/insights/map/"


def _map(client: NetworkClient, member: Member, path: str = MAP) -> dict[str, Any]:
    client.force_login(member)
    response = map_get(client, path)
    assert response.status_code == 200, response.content
    return response.json()


def test_map_nodes_links_and_totals(client_a: NetworkClient, cast: dict[str, Member]) -> None:
    data = _map(client_a, cast["ben"])
    by_label = {node["label"]: node for node in data["nodes"]}
    assert set(by_label) == {"Ada Nurse", "Ben Doctor", "Cy Nurse", "A member"}
    ada = by_label["Ada Nurse"]
    assert (ada["given_minutes"], ada["received_minutes"], ada["exchanges"]) == (150, 0, 2)
    assert ada["profession"] == "Nurse" and ada["organisation"] == "Oxford"
    assert ada["id"] == f"member-{cast['ada'].pk}"
    assert data["nodes"][0] is not None and data["nodes"][0]["label"] == "Ada Nurse"  # largest
    links = {(link["source"], link["target"]): link["minutes"] for link in data["links"]}
    assert links[(f"member-{cast['ada'].pk}", f"member-{cast['cy'].pk}")] == 90
    assert len(links) == 3
    assert "Olive Organiser" not in by_label  # no exchange, no node


def test_opted_out_member_is_anonymous_to_everyone_but_themself(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    dee = cast["dee"]
    for viewer in ("ada", "olive"):  # a member and an organiser
        text = json.dumps(_map(client_a, cast[viewer]))
        for secret in ("Dee Hidden", "Secret Trust", "Pharmacist", f"member-{dee.pk}"):
            assert secret not in text
        anonymous = [n for n in json.loads(text)["nodes"] if n["kind"] == "anonymous"]
        assert anonymous == [
            {
                "id": "anonymous-1",
                "kind": "anonymous",
                "label": "A member",
                "profession": "",
                "organisation": "",
                "given_minutes": 0,
                "received_minutes": 30,
                "exchanges": 1,
                "volunteering": 0,
            }
        ]
    # The stored map is the same for everyone, Dee included; her page says which node is her.
    assert _map(client_a, dee) == _map(client_a, cast["ada"])
    client_a.force_login(dee)
    page = client_a.get("/insights/map/").content.decode()
    assert 'data-you="anonymous-1"' in page and "You are on the map" in page
    client_a.force_login(cast["ada"])
    assert f'data-you="member-{cast["ada"].pk}"' in client_a.get("/insights/map/").content.decode()


def test_opting_out_through_the_profile_form_takes_effect(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    client_a.force_login(cast["ada"])
    assert "Ada Nurse" in json.dumps(_map(client_a, cast["ben"]))  # stored with her name
    client_a.force_login(cast["ada"])
    response = client_a.post(
        "/members/profile/edit/", {"full_name": "Ada Nurse", "profile_visibility": "name_only"}
    )  # unticked: opted out
    assert response.status_code == 302, response.content
    # The stored map named her: it is never served again, but prepared afresh.
    client_a.force_login(cast["ben"])
    assert client_a.get(MAP).status_code == 202
    assert b"is being prepared" in client_a.get("/insights/map/").content
    data = _map(client_a, cast["ben"])
    assert "Ada Nurse" not in json.dumps(data)
    assert sum(n["kind"] == "anonymous" for n in data["nodes"]) == 2
    client_a.force_login(cast["ada"])
    assert b'name="show_on_map"' in client_a.get("/members/profile/edit/").content


def test_name_only_visibility_still_shows_the_name(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    with tenant_context(network_a):
        member_profile_update(actor=cast["ada"], profile_visibility="name_only")
    assert any(n["label"] == "Ada Nurse" for n in _map(client_a, cast["ben"])["nodes"])


def test_another_networks_members_never_appear(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    cast: dict[str, Member],
) -> None:
    """B's own exchanges stay in B; a federated exchange shows B as one node, no member."""
    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=600)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    bea = make_member(network_b, full_name="Bea Elsewhere", organisation="B Trust")
    bob = make_member(network_b, full_name="Bob Elsewhere")
    with tenant_context(network_b):
        gift_grant(member=bea)
        gift_grant(member=bob)
        complete(bea, bob)
    with tenant_context(network_a):
        listing = listing_create(
            actor=cast["ada"],
            kind="offer",
            title="Shadowing",
            description="A day on the ward",
            category="shadowing",
            visibility=Listing.Visibility.PARTNERS,
        )
        exchange = x.exchange_respond(
            actor=bea, actor_network=network_b, listing=listing, message="May I?"
        )
        x.exchange_accept(actor=cast["ada"], exchange=exchange)
        x.exchange_record_hours(
            actor=cast["ada"], exchange=exchange, minutes=60, met_on=timezone.localdate()
        )
        x.exchange_confirm(actor=bea, exchange=exchange, actor_network=network_b)
    data = _map(client_a, cast["ben"])
    text = json.dumps(data)
    for secret in ("Bea Elsewhere", "Bob Elsewhere", "B Trust"):
        assert secret not in text
    network_nodes = [n for n in data["nodes"] if n["kind"] == "network"]
    assert [(n["id"], n["label"], n["received_minutes"]) for n in network_nodes] == [
        (f"network-{network_b.pk}", "Members of Network B", 60)
    ]
    # And B's map has none of A's members: the exchange A hosted shows Ada as Network A.
    b_data = _map(client_b, bob)
    labels = {n["label"] for n in b_data["nodes"]}
    assert labels == {"Bea Elsewhere", "Bob Elsewhere", "Members of Network A"}
    assert "Ada" not in json.dumps(b_data)
    links = {(link["source"], link["target"]): link["minutes"] for link in b_data["links"]}
    assert links[(f"network-{network_a.pk}", f"member-{bea.pk}")] == 60
    client_b.force_login(bob)
    assert client_b.get(MAP).json()["nodes"] == b_data["nodes"]


def test_date_range_filters_by_completion_day(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    march = _map(client_a, cast["ben"], f"{MAP}?start=2025-03-01&end=2025-03-15")
    assert {n["label"] for n in march["nodes"]} == {"Ada Nurse", "Ben Doctor"}
    april = _map(client_a, cast["ben"], f"{MAP}?start=2025-03-16&end=2025-04-30")
    assert {n["label"] for n in april["nodes"]} == {"Ada Nurse", "Cy Nurse"}


@pytest.mark.parametrize("query", ["start=2025-05-01&end=2025-04-01", "start=yesterday"])
def test_bad_dates_are_refused_clearly(
    client_a: NetworkClient, cast: dict[str, Member], query: str
) -> None:
    client_a.force_login(cast["ben"])
    response = client_a.get(f"{MAP}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body.get("field") == "start" or "start" in body
    page = client_a.get(f"/insights/map/?{query}")
    assert page.status_code == 200
    assert b"is being prepared" not in page.content
    assert b"There is a problem" in page.content
    assert b'id="network-map"' not in page.content


def test_map_needs_a_signed_in_member(client_a: NetworkClient, cast: dict[str, Member]) -> None:
    assert client_a.get(MAP).status_code == 401
    assert client_a.get("/insights/map/").status_code == 302


def test_map_page_has_the_tables_without_javascript(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    client_a.force_login(cast["ben"])
    page = map_get(client_a, "/insights/map/").content.decode()
    assert "<h1>Network map</h1>" in page
    assert "4 active members." in page and "Connections (3)" in page
    assert "<strong>Active members</strong> are current members who gave or received" in page
    assert "Ada Nurse" in page and "Dee Hidden" not in page
    assert 'data-src="/api/v1/insights/map/"' in page


def test_map_is_served_as_stored_in_few_queries_whatever_the_network_size(
    client_a: NetworkClient,
    network_a: Network,
    cast: dict[str, Member],
    make_member: Callable[..., Member],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client_a.force_login(cast["ben"])
    map_get(client_a, MAP)
    # The host (with its theme), the session, the member, the stored map, who may not be
    # named.
    with django_assert_max_num_queries(5):
        first = client_a.get(MAP, HTTP_ACCEPT_ENCODING="gzip")
    assert first["Content-Encoding"] == "gzip" and first["ETag"]
    with tenant_context(network_a):
        for n in range(6):
            one, two = make_member(network_a), make_member(network_a)
            gift_grant(member=two)
            complete(one, two, minutes=15 * (n + 1))
    map_prepare(network_a)  # as the exchanges' completion queues it
    with django_assert_max_num_queries(5):
        assert len(client_a.get(MAP).json()["nodes"]) == 16
    with django_assert_max_num_queries(7):
        assert client_a.get("/insights/map/").status_code == 200


def test_map_answers_not_modified_to_the_etag_it_gave(
    client_a: NetworkClient, cast: dict[str, Member]
) -> None:
    client_a.force_login(cast["ben"])
    first = map_get(client_a, MAP)
    again = client_a.get(MAP, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert client_a.get(MAP, HTTP_IF_NONE_MATCH='"stale"').status_code == 200


def test_a_large_map_is_stored_as_groups_each_expandable(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    cast: dict[str, Member],
    make_member: Callable[..., Member],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.insights.services import map as map_store

    monkeypatch.setattr(map_store, "AGGREGATE_ABOVE", 3)
    data = _map(client_a, cast["ben"])
    assert data["aggregated"] and data["group"] == ""
    groups = {n["group"]: n for n in data["nodes"] if n["kind"] == "group"}
    # Ada and Cy are nurses; Dee opted out: her group says nothing of her profession.
    assert groups["nurse"]["members"] == 2 and groups["not-shown"]["members"] == 1
    assert "Pharmacist" not in json.dumps(data) and "Dee Hidden" not in json.dumps(data)
    nurses = _map(client_a, cast["ben"], f"{MAP}?group=nurse")
    labels = {n["label"] for n in nurses["nodes"]}
    assert {"Ada Nurse", "Cy Nurse"} <= labels and "Ben Doctor" not in labels
    assert "Doctor" in labels  # Ben's group, as one node
    page = client_a.get("/insights/map/").content.decode()
    assert "?group=nurse" in page and "Groups" in page
    assert client_a.get(f"{MAP}?group=no-such-group").status_code == 404
    # B's member never gets A's map or any of its groups.
    outsider = make_member(client_b.network)
    client_b.force_login(outsider)
    b_map = map_get(client_b, MAP).json()
    assert "Ada Nurse" not in json.dumps(b_map) and b_map["nodes"] == []
    assert map_get(client_b, f"{MAP}?group=nurse").status_code == 404


def test_project_volunteering_is_its_own_line_to_the_project_not_to_its_lead(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    cast: dict[str, Member],
) -> None:
    """Confirmed project hours are volunteering (volunteer -> project), paid from the
    project's budget: never exchanges, and never help the lead received."""
    from core.members.models import Role
    from core.members.services import member_set_role
    from core.projects.services import (
        project_fund,
        project_propose,
        volunteer_confirm_hours,
        volunteer_pledge,
    )

    ben, olive = cast["ben"], cast["olive"]
    with tenant_context(network_a):
        member_set_role(actor=olive, member=ben, role=Role.QI_LEAD)
        ben.refresh_from_db()
        today = timezone.localdate()
        project = project_propose(
            actor=ben,
            title="Falls",
            aim="Fewer falls",
            description="Ward 7",
            budget_minutes=600,
            starts_on=today,
            ends_on=today,
            skills_wanted=[],
        )
        project_fund(actor=olive, project=project)
        for name in ("ada", "cy"):
            volunteer = volunteer_pledge(actor=cast[name], project=project, pledged_minutes=120)
            volunteer_confirm_hours(
                actor=ben,
                project=project,
                volunteer=volunteer,
                minutes=45,
                worked_on=today,
                key=name,
            )
    data = _map(client_a, cast["ben"])
    nodes = {node["id"]: node for node in data["nodes"]}
    lead = nodes[f"member-{ben.pk}"]
    # Ben received an hour from Ada in one exchange; the volunteering is not his.
    assert (lead["received_minutes"], lead["exchanges"], lead["volunteering"]) == (60, 1, 0)
    falls = nodes[f"project-{project.pk}"]
    assert (falls["kind"], falls["label"]) == ("project", "Project: Falls")
    assert (falls["received_minutes"], falls["exchanges"], falls["volunteering"]) == (90, 0, 2)
    ada = nodes[f"member-{cast['ada'].pk}"]
    assert (ada["given_minutes"], ada["exchanges"], ada["volunteering"]) == (150 + 45, 2, 1)
    links = {frozenset((link["source"], link["target"])): link for link in data["links"]}
    to_lead = links[frozenset((f"member-{cast['ada'].pk}", f"member-{ben.pk}"))]
    assert (to_lead["minutes"], to_lead["count"], to_lead["kind"]) == (60, 1, "exchange")
    to_project = links[frozenset((f"member-{cast['ada'].pk}", f"project-{project.pk}"))]
    assert (to_project["minutes"], to_project["kind"]) == (45, "volunteering")

    page = map_get(client_a, "/insights/map/").content.decode()
    assert "Project: Falls" in page and '<th scope="col" class="num">Volunteering</th>' in page
    # The project is no member: the map counts members as the equality report does.
    assert data["active_members"] == 4 and len(data["nodes"]) == 5
    assert "4 active members, 1 project." in page

    # The metrics count the same: three exchanges, the volunteering apart, and the lead
    # is no broker for the hours volunteers gave his project.
    from core.insights.metrics import metrics_compute
    from core.insights.selectors.edges import network_edges, people
    from core.insights.selectors.map import DateRange

    with tenant_context(network_a):
        metrics = metrics_compute(network_edges(dates=DateRange()), people())
    assert (metrics["exchanges"], metrics["minutes_exchanged"]) == (3, 180)
    assert metrics["minutes_volunteered"] == 90
    assert ben.pk not in [broker["member_id"] for broker in metrics["brokers"]]

    # A member of another network sees nothing of it.
    outsider = make_member(network_b)
    assert "Falls" not in json.dumps(_map(client_b, outsider))


def test_the_map_counts_active_members_as_the_equality_report_does(
    client_a: NetworkClient, network_a: Network, cast: dict[str, Member]
) -> None:
    """One definition: current members who took part. Dee closed her account: the map
    still draws her exchange (as "A member"), but neither page counts her."""
    import datetime

    from core.insights.selectors.equality import equality_figures
    from core.privacy.services import member_close

    with tenant_context(network_a):
        member_close(actor=cast["dee"], password="correct-horse-battery")
    data = _map(client_a, cast["ben"])
    assert [n["label"] for n in data["nodes"] if n["kind"] == "anonymous"] == ["A member"]
    with tenant_context(network_a):
        since = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
        figures = equality_figures([network_a.schema_name], since=since)[network_a.schema_name]
    assert data["active_members"] == figures[("all", "")].active == 3
    page = client_a.get("/insights/map/").content.decode()
    assert "3 active members." in page

"""The campaign pages, the home page card and the API; and network B seeing and changing
nothing of network A's campaigns."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.campaigns.models import Campaign, CampaignItem, CampaignMember
from core.campaigns.services import campaign_item_add
from core.members.models import Role
from ledger.services import gift_grant

from .conftest import complete_on, days, offer, running

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _progress(page: bytes) -> list[tuple[str, str]]:
    return re.findall(
        r'<progress id="campaign-progress-\d+" max="(\d+)" value="(\d+)"', page.decode()
    )


def test_the_organiser_runs_a_campaign_through_the_pages(
    network_a: Network, cast: dict[str, Member], client_a: NetworkClient
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    with tenant_context(network_a):
        listing = offer(gita)
    client_a.force_login(olive)
    form = {
        "title": "Reducing length of stay",
        "description": "Discharge before noon",
        "starts_on": days(-1).isoformat(),
        "ends_on": days(20).isoformat(),
        "target_hours": "10",
    }
    refused = client_a.post("/campaigns/new/", {**form, "ends_on": days(-3).isoformat()})
    assert refused.status_code == 200 and "on or after its start" in refused.content.decode()
    created = client_a.post("/campaigns/new/", form)
    assert created.status_code == 302
    with tenant_context(network_a):
        campaign = Campaign.objects.get()
    added = client_a.post(
        f"/campaigns/{campaign.pk}/items/", {"item": f"listing:{listing.pk}"}, follow=True
    )
    assert "Added to the campaign." in added.content.decode()
    assert "Teaching on inhaler switching" in added.content.decode()
    bad = client_a.post(f"/campaigns/{campaign.pk}/items/", {"item": "listing:999999"}, follow=True)
    assert "not in this network" in bad.content.decode()
    edited = client_a.post(f"/campaigns/{campaign.pk}/edit/", {**form, "target_hours": "12"})
    assert edited.status_code == 302

    client_a.force_login(rob)
    assert client_a.get("/campaigns/new/").status_code == 403
    home = client_a.get("/")
    assert "Reducing length of stay" in home.content.decode()
    assert _progress(home.content) == [("720", "0")]
    joined = client_a.post(f"/campaigns/{campaign.pk}/join/", {"next": "home"})
    assert joined["Location"] == "/"
    with tenant_context(network_a):
        assert CampaignMember.objects.filter(member=rob).exists()
        complete_on(listing, rob, minutes=90)
    joined_home = client_a.get("/").content
    assert _progress(joined_home) == [("720", "90")]
    assert "You have joined." in joined_home.decode()
    detail = client_a.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert _progress(detail.encode()) == [("720", "90")]
    assert "1 member has joined." in detail
    listed = client_a.get("/campaigns/")
    assert _progress(listed.content) == [("720", "90")]

    client_a.force_login(olive)
    closed = client_a.post(f"/campaigns/{campaign.pk}/close/", follow=True)
    assert "The campaign is closed." in closed.content.decode()
    impact = client_a.get("/insights/impact/").content.decode()
    assert "Hours per campaign" in impact and "Reducing length of stay" in impact


def test_the_api_lists_creates_and_updates_for_organisers_only(
    network_a: Network, cast: dict[str, Member], client_a: NetworkClient
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    body = {
        "title": "Green NHS month",
        "description": "",
        "starts_on": days(-1).isoformat(),
        "ends_on": days(10).isoformat(),
        "target_minutes": 600,
    }
    client_a.force_login(rob)
    assert (
        client_a.post("/api/v1/campaigns/", body, content_type="application/json").status_code
        == 403
    )
    client_a.force_login(olive)
    bad = client_a.post(
        "/api/v1/campaigns/", {**body, "target_minutes": 61}, content_type="application/json"
    )
    assert bad.status_code == 400 and "whole hours" in bad.content.decode()
    created = client_a.post("/api/v1/campaigns/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    campaign = created.json()
    with tenant_context(network_a):
        listing = offer(gita)
        campaign_item_add(actor=olive, campaign=Campaign.objects.get(), listing=listing)
        complete_on(listing, rob, minutes=60)
    updated = client_a.put(
        f"/api/v1/campaigns/{campaign['id']}/",
        {**body, "target_minutes": 1200},
        content_type="application/json",
    )
    assert updated.status_code == 200
    assert updated.json()["target_minutes"] == 1200
    assert updated.json()["counted_minutes"] == 60
    assert updated.json()["items"] == [
        {"kind": "listing", "id": listing.pk, "title": listing.title}
    ]
    client_a.force_login(rob)
    listed = client_a.get("/api/v1/campaigns/").json()["results"]
    assert [(c["id"], c["exchange_minutes"], c["joined"]) for c in listed] == [
        (campaign["id"], 60, False)
    ]
    assert (
        client_a.put(
            f"/api/v1/campaigns/{campaign['id']}/", body, content_type="application/json"
        ).status_code
        == 403
    )


def test_network_b_neither_sees_nor_changes_network_a_campaigns(
    network_a: Network,
    network_b: Network,
    cast: dict[str, Member],
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    olive, gita = cast["olive"], cast["gita"]
    with tenant_context(network_a):
        campaign = running(olive, title="Network A's secret campaign")
        listing = offer(gita)
    bea = make_member(network_b, full_name="Bea", role=Role.ORGANISER)
    bill = make_member(network_b, full_name="Bill")
    with tenant_context(network_b):
        gift_grant(member=bill)
        own = running(bea, title="B's own")
    # B's member: A's campaign is not there, by page or API, nor can they tag or join it.
    client_b.force_login(bill)
    other_id = campaign.pk if campaign.pk != own.pk else campaign.pk + 1000
    assert client_b.get(f"/campaigns/{other_id}/").status_code == 404
    assert client_b.get(f"/api/v1/campaigns/{other_id}/").status_code == 404
    assert client_b.post(f"/campaigns/{other_id}/join/").status_code == 404
    assert "secret" not in client_b.get("/campaigns/").content.decode()
    assert "secret" not in client_b.get("/").content.decode()
    assert [c["title"] for c in client_b.get("/api/v1/campaigns/").json()["results"]] == ["B's own"]
    # B's organiser cannot add A's listing to B's campaign: in B it does not exist.
    client_b.force_login(bea)
    response = client_b.post(
        f"/campaigns/{own.pk}/items/", {"item": f"listing:{listing.pk}"}, follow=True
    )
    assert "not in this network" in response.content.decode()
    with tenant_context(network_b):
        assert not CampaignItem.objects.exists()
    with tenant_context(network_a):
        assert not CampaignItem.objects.exists()
        assert not CampaignMember.objects.exists()

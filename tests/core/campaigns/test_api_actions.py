"""The campaign API's actions: joining and leaving, tagging and untagging listings,
sessions and projects, by the same services as the pages; and network B changing nothing
of network A's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.campaigns.models import CampaignItem, CampaignMember
from core.members.models import Role
from core.projects.services import project_propose
from ledger.services import gift_grant
from tests.core.groupsessions.conftest import post

from .conftest import days, offer, running

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

JSON = "application/json"


def test_a_member_joins_and_leaves_by_the_api(
    network_a: Network, cast: dict[str, Member], client_a: NetworkClient
) -> None:
    olive, rob = cast["olive"], cast["rob"]
    with tenant_context(network_a):
        campaign = running(olive)
        ended = running(olive, title="Last year", starts_on=days(-30), ends_on=days(-2))
    client_a.force_login(rob)
    url = f"/api/v1/campaigns/{campaign.pk}/join/"
    joined = client_a.post(url)
    assert joined.status_code == 200, joined.content
    assert joined.json()["joined"] is True
    assert client_a.post(url).status_code == 200  # joining twice keeps the first
    with tenant_context(network_a):
        assert CampaignMember.objects.filter(campaign=campaign, member=rob).count() == 1
    assert client_a.delete(url).status_code == 204
    assert client_a.get(f"/api/v1/campaigns/{campaign.pk}/").json()["joined"] is False
    refused = client_a.post(f"/api/v1/campaigns/{ended.pk}/join/")
    assert refused.status_code == 400 and refused.json()["detail"] == "This campaign has ended."
    assert client_a.post("/api/v1/campaigns/999999/join/").status_code == 404
    with tenant_context(network_a):
        assert not CampaignMember.objects.exists()


def test_members_tag_their_own_and_organisers_anything(
    network_a: Network, cast: dict[str, Member], client_a: NetworkClient
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    with tenant_context(network_a):
        campaign = running(olive)
        upcoming = running(olive, title="Next month", starts_on=days(20), ends_on=days(40))
        gitas, robs = offer(gita), offer(rob, title="Rob's offer")
        session = post(gita)
        project = project_propose(
            actor=olive,
            title="Fewer falls",
            aim="Fewer falls on 7B",
            description="PDSA",
            budget_minutes=600,
            starts_on=days(-5),
            ends_on=days(60),
        )
    items = f"/api/v1/campaigns/{campaign.pk}/items/"
    client_a.force_login(gita)
    tagged = client_a.post(items, {"kind": "listing", "id": gitas.pk}, content_type=JSON)
    assert tagged.status_code == 200, tagged.content
    assert tagged.json()["items"] == [{"kind": "listing", "id": gitas.pk, "title": gitas.title}]
    assert (
        client_a.post(items, {"kind": "session", "id": session.pk}, content_type=JSON).status_code
        == 200
    )
    # Not hers, not a project, not before the campaign starts, not something missing.
    assert (
        client_a.post(items, {"kind": "listing", "id": robs.pk}, content_type=JSON).status_code
        == 403
    )
    assert (
        client_a.post(items, {"kind": "project", "id": project.pk}, content_type=JSON).status_code
        == 403
    )
    early = client_a.post(
        f"/api/v1/campaigns/{upcoming.pk}/items/",
        {"kind": "listing", "id": gitas.pk},
        content_type=JSON,
    )
    assert early.status_code == 400 and "once it has started" in early.json()["detail"]
    missing = client_a.post(items, {"kind": "listing", "id": 999999}, content_type=JSON)
    assert missing.status_code == 404 and missing.json()["detail"] == "That is not in this network."
    assert (
        client_a.post(items, {"kind": "member", "id": rob.pk}, content_type=JSON).status_code == 400
    )
    # The organiser tags anyone's listing and a project, and untags what Gita added.
    client_a.force_login(olive)
    for kind, thing in (("listing", robs), ("project", project)):
        assert (
            client_a.post(items, {"kind": kind, "id": thing.pk}, content_type=JSON).status_code
            == 200
        )
    kinds = [
        (i["kind"], i["id"])
        for i in client_a.get(f"/api/v1/campaigns/{campaign.pk}/").json()["items"]
    ]
    assert sorted(kinds) == sorted(
        [
            ("listing", gitas.pk),
            ("listing", robs.pk),
            ("project", project.pk),
            ("session", session.pk),
        ]
    )
    assert client_a.delete(f"{items}session/{session.pk}/").status_code == 204
    # Gita cannot untag what the organiser added; she can untag her own.
    client_a.force_login(gita)
    assert client_a.delete(f"{items}listing/{robs.pk}/").status_code == 403
    assert client_a.delete(f"{items}listing/{gitas.pk}/").status_code == 204
    assert client_a.delete(f"{items}listing/{gitas.pk}/").status_code == 404
    assert client_a.delete(f"{items}member/{gitas.pk}/").status_code == 404
    with tenant_context(network_a):
        left = CampaignItem.objects.filter(campaign=campaign)
        assert sorted(item.kind for item in left) == ["listing", "project"]
        verbs = list(
            AuditEvent.objects.filter(verb__startswith="campaign.item").values_list(
                "verb", flat=True
            )
        )
        assert sorted(verbs) == ["campaign.item_add", "campaign.item_add", "campaign.item_remove"]


def test_network_b_cannot_join_tag_or_untag_network_a_campaigns(
    network_a: Network,
    network_b: Network,
    cast: dict[str, Member],
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    olive, gita = cast["olive"], cast["gita"]
    with tenant_context(network_a):
        campaign = running(olive, title="Network A's campaign")
        listing = offer(gita)
        CampaignItem.objects.create(campaign=campaign, listing=listing, added_by=gita)
    bea = make_member(network_b, full_name="Bea", role=Role.ORGANISER)
    bill = make_member(network_b, full_name="Bill")
    with tenant_context(network_b):
        gift_grant(member=bill)
        own = running(bea, title="B's own")
    other_id = campaign.pk if campaign.pk != own.pk else campaign.pk + 1000
    for who in (bill, bea):
        client_b.force_login(who)
        assert client_b.post(f"/api/v1/campaigns/{other_id}/join/").status_code == 404
        assert client_b.delete(f"/api/v1/campaigns/{other_id}/join/").status_code == 404
        assert (
            client_b.post(
                f"/api/v1/campaigns/{other_id}/items/",
                {"kind": "listing", "id": listing.pk},
                content_type=JSON,
            ).status_code
            == 404
        )
        assert (
            client_b.delete(f"/api/v1/campaigns/{other_id}/items/listing/{listing.pk}/").status_code
            == 404
        )
    # B's organiser cannot tag A's listing to B's own campaign: in B it is not there.
    refused = client_b.post(
        f"/api/v1/campaigns/{own.pk}/items/",
        {"kind": "listing", "id": listing.pk},
        content_type=JSON,
    )
    assert refused.status_code == 404
    with tenant_context(network_b):
        assert not CampaignItem.objects.exists() and not CampaignMember.objects.exists()
    with tenant_context(network_a):
        assert CampaignItem.objects.filter(campaign=campaign).count() == 1
        assert not CampaignMember.objects.exists()

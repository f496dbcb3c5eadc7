"""Who may run, tag and join campaigns; bad input refused with nothing written; audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.campaigns.models import Campaign, CampaignItem, CampaignMember
from core.campaigns.services import (
    CampaignRefused,
    campaign_close,
    campaign_item_add,
    campaign_item_remove,
    campaign_join,
    campaign_update,
)
from kernel.errors import PermissionDenied
from tests.core.groupsessions.conftest import post

from .conftest import days, offer, running

if TYPE_CHECKING:
    from typing import Any

    from core.members.models import Member
    from tenants.models import Network


def test_only_organisers_run_campaigns_and_each_action_is_audited(
    network_a: Network, cast: dict[str, Member]
) -> None:
    olive, rob = cast["olive"], cast["rob"]
    with tenant_context(network_a):
        with pytest.raises(PermissionDenied):
            running(rob)
        campaign = running(olive)
        with pytest.raises(PermissionDenied):
            campaign_update(
                actor=rob,
                campaign=campaign,
                title="Mine",
                starts_on=days(0),
                ends_on=days(1),
                target_minutes=60,
            )
        with pytest.raises(PermissionDenied):
            campaign_close(actor=rob, campaign=campaign)
        campaign_update(
            actor=olive,
            campaign=campaign,
            title="Green NHS fortnight",
            starts_on=days(-1),
            ends_on=days(13),
            target_minutes=1200,
        )
        campaign_close(actor=olive, campaign=campaign)
        campaign_close(actor=olive, campaign=campaign)  # again: nothing more
        verbs = list(AuditEvent.objects.order_by("id").values_list("verb", flat=True))
        assert verbs == ["campaign.create", "campaign.update", "campaign.close"]
        update = AuditEvent.objects.get(verb="campaign.update")
        assert update.before is not None and update.after is not None
        assert update.before["title"] == "Green NHS month"
        assert update.after["target_minutes"] == 1200
        with pytest.raises(CampaignRefused, match="closed"):
            campaign_update(
                actor=olive,
                campaign=campaign,
                title="Again",
                starts_on=days(0),
                ends_on=days(1),
                target_minutes=60,
            )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"starts_on": days(5), "ends_on": days(1)}, "ends_on"),
        ({"starts_on": days(0), "ends_on": days(400)}, "ends_on"),
        ({"target_minutes": 0}, "target_minutes"),
        ({"target_minutes": 90}, "target_minutes"),
        ({"target_minutes": True}, "target_minutes"),
        ({"starts_on": "2026-01-01"}, "starts_on"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    network_a: Network, cast: dict[str, Member], fields: dict[str, Any], field: str
) -> None:
    with tenant_context(network_a):
        with pytest.raises(CampaignRefused) as refused:
            running(cast["olive"], **fields)
        assert refused.value.field == field
        assert not Campaign.objects.exists()
        assert not AuditEvent.objects.filter(verb__startswith="campaign").exists()


def test_members_tag_only_their_own_listings_and_sessions_to_a_running_campaign(
    network_a: Network, cast: dict[str, Member]
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    with tenant_context(network_a):
        campaign = running(olive)
        upcoming = running(olive, title="Later", starts_on=days(2), ends_on=days(5))
        mine, hers = offer(rob, "Rob's offer"), offer(gita)
        session = post(gita)
        item = campaign_item_add(actor=rob, campaign=campaign, listing=mine)
        assert campaign_item_add(actor=rob, campaign=campaign, listing=mine) == item  # once
        with pytest.raises(PermissionDenied):
            campaign_item_add(actor=rob, campaign=campaign, listing=hers)
        with pytest.raises(PermissionDenied):
            campaign_item_add(actor=rob, campaign=campaign, session=session)
        with pytest.raises(CampaignRefused, match="started"):
            campaign_item_add(actor=rob, campaign=upcoming, listing=mine)
        with pytest.raises(CampaignRefused):
            campaign_item_add(actor=rob, campaign=campaign)
        campaign_item_add(actor=gita, campaign=campaign, session=session)
        # Organisers tag anything open, also before the start; members' tagging is not audited.
        campaign_item_add(actor=olive, campaign=upcoming, listing=hers)
        assert AuditEvent.objects.filter(verb="campaign.item_add").count() == 1
        with pytest.raises(PermissionDenied):
            campaign_item_remove(actor=rob, item=CampaignItem.objects.get(session=session))
        campaign_item_remove(actor=rob, item=item)
        campaign_item_remove(actor=olive, item=CampaignItem.objects.get(session=session))
        assert list(CampaignItem.objects.values_list("listing", flat=True)) == [hers.pk]
        assert AuditEvent.objects.filter(verb="campaign.item_remove").count() == 1
        campaign_close(actor=olive, campaign=upcoming)
        with pytest.raises(CampaignRefused, match="ended"):
            campaign_item_add(actor=olive, campaign=upcoming, listing=mine)


def test_joining_is_once_and_not_after_the_end(network_a: Network, cast: dict[str, Member]) -> None:
    olive, rob = cast["olive"], cast["rob"]
    with tenant_context(network_a):
        campaign = running(olive)
        first = campaign_join(actor=rob, campaign=campaign)
        assert campaign_join(actor=rob, campaign=campaign) == first
        assert CampaignMember.objects.count() == 1
        past = running(olive, title="Past", starts_on=days(-9), ends_on=days(-2))
        with pytest.raises(CampaignRefused):
            campaign_join(actor=rob, campaign=past)

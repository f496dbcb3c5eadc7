"""The hours a campaign counts: completed exchanges on its listings, settled group session
credit and confirmed project hours, within its dates; one query for any number."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, TypedDict, cast

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.campaigns.models import Campaign
from core.campaigns.selectors import campaign_list, campaigns_active, campaigns_with_hours
from core.campaigns.services import campaign_close, campaign_item_add
from core.exchanges.models import Exchange
from core.groupsessions import services as s
from core.projects.services import (
    project_fund,
    project_propose,
    volunteer_confirm_hours,
    volunteer_pledge,
)
from tests.core.groupsessions.conftest import post, soon

from .conftest import complete_on, days, offer, running

if TYPE_CHECKING:
    from collections.abc import Callable

    from django_stubs_ext import WithAnnotations

    from core.members.models import Member
    from tenants.models import Network


class _Hours(TypedDict):
    """What `campaigns_with_hours` annotates a campaign with."""

    exchange_minutes: int
    session_minutes: int
    project_minutes: int


def _hours(campaign: Campaign) -> WithAnnotations[Campaign, _Hours]:
    # The selector's QuerySet[Campaign] does not carry the annotations in its type.
    found = campaigns_with_hours(Campaign.objects.filter(pk=campaign.pk)).get()
    return cast("WithAnnotations[Campaign, _Hours]", found)


def test_completed_exchanges_on_its_listings_count_within_its_dates(
    network_a: Network, cast: dict[str, Member]
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    with tenant_context(network_a):
        campaign = running(olive)
        tagged, other = offer(gita), offer(gita, "Untagged help")
        campaign_item_add(actor=olive, campaign=campaign, listing=tagged)
        assert _hours(campaign).counted_minutes == 0
        complete_on(tagged, rob, minutes=45)
        complete_on(other, rob, minutes=30)  # not in the campaign
        assert _hours(campaign).exchange_minutes == 45
        # One that completed before the campaign started does not count.
        before = complete_on(tagged, cast["olive"], minutes=60)
        Exchange.objects.filter(pk=before.pk).update(
            completed_at=timezone.now() - datetime.timedelta(days=5)
        )
        found = _hours(campaign)
        assert (found.exchange_minutes, found.counted_minutes) == (45, 45)


def test_settled_session_credit_and_confirmed_project_hours_count(
    network_a: Network, cast: dict[str, Member], make_member: Callable[..., Member]
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    with tenant_context(network_a):
        campaign = running(olive)
        session = post(gita, minutes=60, capacity=2)
        campaign_item_add(actor=gita, campaign=campaign, session=session)
        s.booking_create(actor=rob, session=session)
        project = project_fund(
            actor=olive,
            project=project_propose(
                actor=olive,
                title="Fewer falls",
                aim="Fewer falls on 7B",
                description="PDSA",
                budget_minutes=600,
                starts_on=days(-5),
                ends_on=days(60),
            ),
        )
        campaign_item_add(actor=olive, campaign=campaign, project=project)
        volunteer = volunteer_pledge(actor=rob, project=project, pledged_minutes=120)
        volunteer_confirm_hours(
            actor=olive,
            project=project,
            volunteer=volunteer,
            minutes=90,
            worked_on=timezone.localdate(),
            key="day-1",
        )
        assert _hours(campaign).project_minutes == 90
        assert _hours(campaign).session_minutes == 0  # not settled yet
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gita, session=session, present=[rob.pk])
        s.attendance_confirm(actor=rob, session=session)
        found = _hours(campaign)
    assert found.session_minutes == 60
    assert found.counted_minutes == 150


def test_a_page_of_campaigns_with_their_hours_is_one_query(
    network_a: Network, cast: dict[str, Member]
) -> None:
    olive, gita, rob = cast["olive"], cast["gita"], cast["rob"]
    with tenant_context(network_a):
        for n in range(4):
            campaign = running(olive, title=f"Campaign {n}")
            listing = offer(gita, f"Help {n}")
            campaign_item_add(actor=olive, campaign=campaign, listing=listing)
            complete_on(listing, (rob, olive)[n % 2], minutes=15 * (n + 1))
        with CaptureQueriesContext(connection) as captured:
            found = list(campaign_list(member=rob))
        assert len(captured.captured_queries) == 1
        assert sorted(c.counted_minutes for c in found) == [15, 30, 45, 60]
        with CaptureQueriesContext(connection) as first:
            campaigns_active(member=rob)
        with CaptureQueriesContext(connection) as captured:
            active = campaigns_active(member=rob)
    # the running campaigns' ids, then the page; while the ids are kept, the page only
    assert len(first.captured_queries) == 2
    assert len(captured.captured_queries) == 1 and len(active) == 3


def test_upcoming_ended_and_closed_campaigns_are_not_on_the_home_card(
    network_a: Network, cast: dict[str, Member]
) -> None:
    olive, rob = cast["olive"], cast["rob"]
    with tenant_context(network_a):
        now = running(olive, title="Now")
        running(olive, title="Later", starts_on=days(3), ends_on=days(9))
        running(olive, title="Past", starts_on=days(-9), ends_on=days(-2))
        campaign_close(actor=olive, campaign=running(olive, title="Closed"))
        assert [c.pk for c in campaigns_active(member=rob)] == [now.pk]

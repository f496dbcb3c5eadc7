"""Reading campaigns and the hours they count.

Hours counted toward a campaign, within its dates (the network's local days, both ends
included):
- completed exchanges on its listings: the exchange's minutes, on the day it completed;
- settled group sessions tagged to it: the credit its attendees paid, on the day it settled;
- confirmed hours on its projects: each confirmation's minutes, on the day it was made.
`campaigns_with_hours` adds the three sums to any set of campaigns as correlated
subqueries, so a page of campaigns with their progress is one query whatever its size.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exchanges.models import Exchange, State
from core.groupsessions.models import Booking, GroupSession, SessionState
from core.listings.models import Listing
from core.members.models import Member
from core.projects.models import HoursConfirmation, Project
from kernel.cache import cache_forget, cache_kept
from kernel.errors import NotFound

from .models import Campaign, CampaignItem, CampaignMember


def _total(rows: QuerySet[Any], field: str) -> Coalesce:
    """SUM(field) over `rows` (correlated to the outer campaign) as one scalar subquery."""
    summed = rows.order_by().annotate(total=Func(F(field), function="SUM")).values("total")
    return Coalesce(Subquery(summed[:1], output_field=IntegerField()), Value(0))


def _within(field: str) -> Q:
    return Q(
        **{f"{field}__date__gte": OuterRef("starts_on"), f"{field}__date__lte": OuterRef("ends_on")}
    )


def campaigns_with_hours(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """`campaigns` with `exchange_minutes`, `session_minutes` and `project_minutes` (see
    the module's docstring; `Campaign.counted_minutes` is their sum), in the same query."""
    exchanges = Exchange.objects.filter(
        _within("completed_at"),
        state=State.COMPLETED,
        listing__campaign_items__campaign=OuterRef("pk"),
    )
    shares = Booking.objects.filter(
        _within("session__settled_at"),
        session__state=SessionState.SETTLED,
        session__campaign_items__campaign=OuterRef("pk"),
    )
    confirmations = HoursConfirmation.objects.filter(
        _within("created_at"), volunteer__project__campaign_items__campaign=OuterRef("pk")
    )
    return campaigns.annotate(
        exchange_minutes=_total(exchanges, "minutes"),
        session_minutes=_total(shares, "paid_minutes"),
        project_minutes=_total(confirmations, "minutes"),
    )


def _with_joined(campaigns: QuerySet[Campaign], member: Member) -> QuerySet[Campaign]:
    joined = CampaignMember.objects.filter(campaign=OuterRef("pk"), member=member)
    return campaigns.annotate(joined=Exists(joined))


def campaign_list(*, member: Member) -> QuerySet[Campaign]:
    """Every campaign of the network, running and upcoming first, with its hours and
    whether `member` joined it (one query)."""
    today = timezone.localdate()
    return (
        _with_joined(campaigns_with_hours(Campaign.objects.all()), member)
        .annotate(finished=Q(closed_at__isnull=False) | Q(ends_on__lt=today))
        .order_by("finished", "starts_on", "title", "id")
    )


# Which campaigns run today is the same for every member, and most networks run none most
# days: their ids are kept in the cache (keys carry the network's schema) for the day, at
# most RUNNING_SECONDS, and dropped when a campaign is created, changed or closed
# (campaigns_running_forget). The home page then asks the database nothing on a day
# without a campaign, and on other days reads the kept campaigns' hours live.
RUNNING_SECONDS = 300


def _running(today: datetime.date) -> QuerySet[Campaign]:
    return Campaign.objects.filter(closed_at__isnull=True, starts_on__lte=today, ends_on__gte=today)


def _running_key(today: datetime.date) -> str:
    return f"campaigns:running:{today.isoformat()}"


def campaigns_running_forget() -> None:
    cache_forget(_running_key(timezone.localdate()))


def campaigns_active(*, member: Member, limit: int = 3) -> list[Campaign]:
    """Campaigns running today (started, not ended, not closed) for the home page: those
    the member joined first, then the soonest to end; with their hours. No query on a day
    the network runs none (their ids are kept), else one."""
    today = timezone.localdate()
    ids = cache_kept(
        _running_key(today),
        RUNNING_SECONDS,
        lambda: list(_running(today).values_list("pk", flat=True)),
    )
    if not ids:
        return []
    joined = CampaignMember.objects.filter(campaign=OuterRef("pk"), member=member)
    campaigns = campaigns_with_hours(_running(today).filter(pk__in=ids))
    campaigns = campaigns.annotate(joined=Exists(joined))
    return list(campaigns.order_by("-joined", "ends_on", "title", "id")[:limit])


def campaign_is_running(campaign: Campaign, *, on: datetime.date | None = None) -> bool:
    day = on or timezone.localdate()
    return campaign.closed_at is None and campaign.starts_on <= day <= campaign.ends_on


def access_campaign(campaign_id: int, *, member: Member) -> Campaign:
    """A campaign of this network, with its hours and whether `member` joined. Another
    network's campaign is in another schema, so it is simply not found."""
    campaign = (
        _with_joined(campaigns_with_hours(Campaign.objects.filter(pk=campaign_id)), member)
        .select_related("created_by")
        .first()
    )
    if campaign is None:
        raise NotFound("No such campaign.")
    return campaign


def campaign_items(*, campaign: Campaign) -> list[CampaignItem]:
    """The campaign's items with what each names (one query), listings first."""
    items = CampaignItem.objects.filter(campaign=campaign).select_related(
        "listing__owner", "session__giver", "project__lead"
    )
    return sorted(items, key=lambda item: (item.kind != "listing", item.kind, item.added_at))


def campaign_taggable(*, campaign: Campaign, member: Member) -> dict[str, list[Any]]:
    """What `member` may add to the campaign now: organisers any open listing, open
    session or live project not yet in it; members their own open listings and sessions."""
    tagged = CampaignItem.objects.filter(campaign=campaign)
    listings = Listing.objects.filter(status=Listing.Status.OPEN, hidden_reason="").exclude(
        pk__in=tagged.filter(listing__isnull=False).values("listing")
    )
    sessions = GroupSession.objects.filter(state=SessionState.OPEN).exclude(
        pk__in=tagged.filter(session__isnull=False).values("session")
    )
    if not member.has_perm("campaigns.manage_campaign"):
        return {
            "listings": list(listings.filter(owner=member).order_by("title", "id")[:100]),
            "sessions": list(sessions.filter(giver=member).order_by("starts_at", "id")[:100]),
            "projects": [],
        }
    projects = Project.objects.filter(
        state__in=[Project.State.PROPOSED, Project.State.APPROVED]
    ).exclude(pk__in=tagged.filter(project__isnull=False).values("project"))
    return {
        "listings": list(listings.order_by("-created_at", "-id")[:200]),
        "sessions": list(sessions.order_by("starts_at", "id")[:200]),
        "projects": list(projects.order_by("title", "id")[:200]),
    }


def campaign_members_count(*, campaign: Campaign) -> int:
    return CampaignMember.objects.filter(campaign=campaign).count()


TAGGABLE_KINDS: dict[str, Any] = {"listing": Listing, "session": GroupSession, "project": Project}


def campaign_thing(*, kind: str, thing_id: int) -> dict[str, Any]:
    """The one listing, group session or project `kind` and `thing_id` name, as the keyword
    the campaign services take (`{"listing": listing}`). Another network's ids are simply
    not there."""
    if kind not in TAGGABLE_KINDS:
        raise NotFound(_("Choose something to add."))
    found = TAGGABLE_KINDS[kind].objects.filter(pk=thing_id).first()
    if found is None:
        raise NotFound(_("That is not in this network."))
    return {kind: found}


def campaign_item_of(*, campaign: Campaign, kind: str, thing_id: int) -> CampaignItem:
    """The campaign's item naming that listing, session or project."""
    if kind not in TAGGABLE_KINDS:
        raise NotFound(_("That is not in the campaign."))
    item = (
        CampaignItem.objects.filter(campaign=campaign, **{f"{kind}_id": thing_id})
        .select_related("campaign")
        .first()
    )
    if item is None:
        raise NotFound(_("That is not in the campaign."))
    return item

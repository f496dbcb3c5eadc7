"""Running campaigns: organisers create, edit and close them and tag listings, group
sessions and projects to them; members join them and tag their own listings and sessions
to a running one. Organisers' actions are audit-logged; nothing here moves credit."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.groupsessions.models import GroupSession, SessionState
from core.listings.models import Listing
from core.members.models import Member, MemberState
from core.projects.models import Project
from kernel.db import durable_service
from kernel.errors import ApplicationError, PermissionDenied
from kernel.text import plain_text

from .models import DESCRIPTION_LIMIT, TARGET_MAX_HOURS, TITLE_LIMIT, Campaign, CampaignItem
from .models import CampaignMember as Joined
from .selectors import campaign_is_running, campaigns_running_forget

MANAGE = "campaigns.manage_campaign"


class CampaignRefused(ApplicationError):
    pass


def _organiser_check(actor: Member) -> None:
    if not actor.has_perm(MANAGE):
        raise PermissionDenied(_("Only the network's organisers can run campaigns."))


def _fields(
    *, title: str, description: str, starts_on: object, ends_on: object, target_minutes: object
) -> dict[str, Any]:
    title = plain_text(
        title,
        name="title",
        limit=TITLE_LIMIT,
        refusal=CampaignRefused,
        missing=_("Give the campaign a title."),
    )
    description = plain_text(
        description,
        name="description",
        limit=DESCRIPTION_LIMIT,
        missing=None,
        refusal=CampaignRefused,
    )
    if not isinstance(starts_on, datetime.date) or not isinstance(ends_on, datetime.date):
        raise CampaignRefused(_("Give a start and an end date."), field="starts_on")
    if ends_on < starts_on:
        raise CampaignRefused(_("The campaign must end on or after its start."), field="ends_on")
    if ends_on - starts_on > datetime.timedelta(days=366):
        raise CampaignRefused(_("A campaign lasts at most a year."), field="ends_on")
    if (
        isinstance(target_minutes, bool)
        or not isinstance(target_minutes, int)
        or target_minutes % 60
        or not 60 <= target_minutes <= TARGET_MAX_HOURS * 60
    ):
        raise CampaignRefused(
            _("Set a target of 1 to %(most)s whole hours.") % {"most": f"{TARGET_MAX_HOURS:,}"},
            field="target_minutes",
        )
    return {
        "title": title,
        "description": description,
        "starts_on": starts_on,
        "ends_on": ends_on,
        "target_minutes": target_minutes,
    }


def _summary(campaign: Campaign) -> dict[str, Any]:
    return {
        "title": campaign.title,
        "starts_on": campaign.starts_on.isoformat(),
        "ends_on": campaign.ends_on.isoformat(),
        "target_minutes": campaign.target_minutes,
        "closed": campaign.closed_at is not None,
    }


@durable_service
def campaign_create(
    *,
    actor: Member,
    title: str,
    description: str = "",
    starts_on: datetime.date,
    ends_on: datetime.date,
    target_minutes: int,
) -> Campaign:
    """Start a campaign (organisers only); audit-logged."""
    _organiser_check(actor)
    fields = _fields(
        title=title,
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        target_minutes=target_minutes,
    )
    campaign = Campaign.objects.create(created_by=actor, **fields)
    campaigns_running_forget()
    audit_record(actor=actor, verb="campaign.create", target=campaign, after=_summary(campaign))
    return campaign


@durable_service
def campaign_update(
    *,
    actor: Member,
    campaign: Campaign,
    title: str,
    description: str = "",
    starts_on: datetime.date,
    ends_on: datetime.date,
    target_minutes: int,
) -> Campaign:
    """Change a campaign's title, dates or target (organisers only; not once closed)."""
    _organiser_check(actor)
    fields = _fields(
        title=title,
        description=description,
        starts_on=starts_on,
        ends_on=ends_on,
        target_minutes=target_minutes,
    )
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.closed_at is not None:
        raise CampaignRefused(_("This campaign is closed; it can no longer be changed."))
    before = _summary(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=list(fields))
    campaigns_running_forget()
    audit_record(
        actor=actor, verb="campaign.update", target=locked, before=before, after=_summary(locked)
    )
    return locked


@durable_service
def campaign_close(*, actor: Member, campaign: Campaign) -> Campaign:
    """Close a campaign early or after it ends (organisers only). Its hours stay counted;
    nothing more can be tagged to it. Closing a closed campaign changes nothing."""
    _organiser_check(actor)
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.closed_at is None:
        before = _summary(locked)
        locked.closed_at = timezone.now()
        locked.save(update_fields=["closed_at"])
        campaigns_running_forget()
        audit_record(
            actor=actor, verb="campaign.close", target=locked, before=before, after=_summary(locked)
        )
    return locked


def _item_check(
    actor: Member,
    campaign: Campaign,
    listing: Listing | None,
    session: GroupSession | None,
    project: Project | None,
) -> None:
    if sum(item is not None for item in (listing, session, project)) != 1:
        raise CampaignRefused(_("Choose one offer or request, group session or project."))
    organiser = actor.has_perm(MANAGE)
    today = timezone.localdate()
    if campaign.closed_at is not None or campaign.ends_on < today:
        raise CampaignRefused(_("This campaign has ended; nothing more can be added to it."))
    if not organiser and not campaign_is_running(campaign, on=today):
        raise CampaignRefused(_("You can add to a campaign once it has started."))
    if listing is not None:
        if listing.status != Listing.Status.OPEN or listing.hidden_reason:
            raise CampaignRefused(_("Only open offers and requests can join a campaign."))
        if not organiser and listing.owner_id != actor.pk:
            raise PermissionDenied(_("You can add only your own offers and requests."))
    if session is not None:
        if session.state != SessionState.OPEN:
            raise CampaignRefused(_("Only sessions open for booking can join a campaign."))
        if not organiser and session.giver_id != actor.pk:
            raise PermissionDenied(_("You can add only the sessions you give."))
    if project is not None:
        if not organiser:
            raise PermissionDenied(_("Only organisers can add projects to a campaign."))
        if project.state not in (Project.State.PROPOSED, Project.State.APPROVED):
            raise CampaignRefused(_("Only live projects can join a campaign."))


@durable_service
def campaign_item_add(
    *,
    actor: Member,
    campaign: Campaign,
    listing: Listing | None = None,
    session: GroupSession | None = None,
    project: Project | None = None,
) -> CampaignItem:
    """Tag one listing, group session or project to a campaign. Organisers tag any open
    one while the campaign has not ended; members tag their own open listings and sessions
    while it runs. Tagging what is already tagged returns the existing item."""
    if actor.state != MemberState.ACTIVE:
        raise PermissionDenied(_("Only active members can add to a campaign."))
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _item_check(actor, locked, listing, session, project)
    given = (("listing", listing), ("session", session), ("project", project))
    named: dict[str, Model] = {kind: thing for kind, thing in given if thing is not None}
    existing = CampaignItem.objects.filter(campaign=locked, **named).first()
    if existing is not None:
        return existing
    try:
        item = CampaignItem.objects.create(campaign=locked, added_by=actor, **named)
    except IntegrityError:  # the lock on the campaign makes this a bug, not a race
        raise CampaignRefused(_("That is already in the campaign.")) from None
    if actor.has_perm(MANAGE):
        ((kind, tagged),) = named.items()
        audit_record(
            actor=actor,
            verb="campaign.item_add",
            target=locked,
            after={"kind": kind, "id": tagged.pk},
        )
    return item


@durable_service
def campaign_item_remove(*, actor: Member, item: CampaignItem) -> None:
    """Untag an item: organisers any, members what they tagged themselves. The hours it
    brought stop counting toward the campaign."""
    organiser = actor.has_perm(MANAGE)
    if not organiser and item.added_by_id != actor.pk:
        raise PermissionDenied(_("Only organisers can remove what others added."))
    deleted, _rows = CampaignItem.objects.filter(pk=item.pk).delete()
    if deleted and organiser:
        audit_record(
            actor=actor,
            verb="campaign.item_remove",
            target=item.campaign,
            before={"kind": item.kind, "id": item.listing_id or item.session_id or item.project_id},
        )


@durable_service
def campaign_join(*, actor: Member, campaign: Campaign) -> Joined:
    """Join a running or upcoming campaign; joining twice keeps the first."""
    if actor.state != MemberState.ACTIVE:
        raise PermissionDenied(_("Only active members can join a campaign."))
    if campaign.closed_at is not None or campaign.ends_on < timezone.localdate():
        raise CampaignRefused(_("This campaign has ended."))
    joined, _created = Joined.objects.get_or_create(campaign=campaign, member=actor)
    return joined


@durable_service
def campaign_leave(*, actor: Member, campaign: Campaign) -> None:
    Joined.objects.filter(campaign=campaign, member=actor).delete()

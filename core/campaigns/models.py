"""Time-boxed campaigns ("Green NHS month", "reducing length of stay") that gather
listings, group sessions and projects under one theme, with a target of hours.

The hours a campaign counts are never stored: they are read from the exchanges, sessions
and projects themselves (selectors.campaigns_with_hours), so they cannot drift from the
ledger's record of what happened."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

TITLE_LIMIT = 120
DESCRIPTION_LIMIT = 4000
# A target in whole hours, up to a very large campaign.
TARGET_MAX_HOURS = 100_000


@network_model
class Campaign(models.Model):
    title = models.CharField(max_length=TITLE_LIMIT)
    description = models.TextField(max_length=DESCRIPTION_LIMIT, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    target_minutes = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("manage_campaign", "Can run campaigns")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(target_minutes__gte=60), name="campaign_target_at_least_an_hour"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def counted_minutes(self) -> int:
        """The hours counted toward the target, on a campaign read through
        `selectors.campaigns_with_hours` (a sum in SQL would repeat its three subqueries)."""
        found = self.exchange_minutes + self.session_minutes + self.project_minutes  # type: ignore[attr-defined]
        return int(found)


class ItemKind(models.TextChoices):
    LISTING = "listing", _("Offer or request")
    SESSION = "session", _("Group session")
    PROJECT = "project", _("Project")


@network_model
class CampaignItem(models.Model):
    """A listing, group session or project tagged to a campaign (exactly one of the three)."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # the campaign_item_*_once constraints lead with it
    )
    listing = models.ForeignKey(
        "listings.Listing",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="campaign_items",
    )
    session = models.ForeignKey(
        "groupsessions.GroupSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="campaign_items",
    )
    project = models.ForeignKey(
        "projects.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="campaign_items",
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(listing__isnull=False, session__isnull=True, project__isnull=True)
                    | Q(listing__isnull=True, session__isnull=False, project__isnull=True)
                    | Q(listing__isnull=True, session__isnull=True, project__isnull=False)
                ),
                name="campaign_item_one_kind",
            ),
            models.UniqueConstraint(
                fields=["campaign", "listing"], name="campaign_item_listing_once"
            ),
            models.UniqueConstraint(
                fields=["campaign", "session"], name="campaign_item_session_once"
            ),
            models.UniqueConstraint(
                fields=["campaign", "project"], name="campaign_item_project_once"
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.pk} of campaign {self.campaign_id}"

    @property
    def kind(self) -> str:
        if self.listing_id:
            return ItemKind.LISTING
        return ItemKind.SESSION if self.session_id else ItemKind.PROJECT


@network_model
class CampaignMember(models.Model):
    """A member who joined a campaign: its items come first for them."""

    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="members",
        db_index=False,  # campaign_member_once leads with it
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="campaigns_joined"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "member"], name="campaign_member_once")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} in campaign {self.campaign_id}"

"""Offers of help and requests for it, searchable with PostgreSQL full-text search."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model


@network_model
class Listing(models.Model):
    class Kind(models.TextChoices):
        OFFER = "offer", _("Offer of help")
        REQUEST = "request", _("Request for help")

    class Category(models.TextChoices):
        SHADOWING = "shadowing", _("Shadowing")
        COACHING = "coaching", _("Coaching")
        MENTORING = "mentoring", _("Mentoring")
        TEACHING = "teaching", _("Teaching")
        QI_METHODS = "qi_methods", _("QI methods")
        DATA = "data", _("Data and measurement")
        RESEARCH = "research", _("Research")
        LEADERSHIP = "leadership", _("Leadership")
        CLINICAL_SKILLS = "clinical_skills", _("Clinical skills")
        DIGITAL = "digital", _("Digital")
        WELLBEING = "wellbeing", _("Wellbeing")
        OTHER = "other", _("Other")

    class Format(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        VIDEO = "video", _("Video call")
        PHONE = "phone", _("Phone")
        ANY = "any", _("Any")

    class Visibility(models.TextChoices):
        NETWORK = "network", _("This network")
        PARTNERS = "partners", _("This network and partner networks")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        PAUSED = "paused", _("Paused")
        CLOSED = "closed", _("Closed")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listings"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=5000)
    category = models.CharField(max_length=16, choices=Category.choices)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.ANY)
    location = models.CharField(max_length=120, blank=True)
    duration_minutes = models.PositiveIntegerField(default=60)
    available_from = models.DateField(null=True, blank=True)
    available_until = models.DateField(null=True, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.NETWORK
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    hidden_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The outbox of telling the members a request matches: True from the commit that posts or
    # reopens it until the task has told them; what a lost message leaves pending, the sweep
    # queues again a grace period after it was last queued (core.listings.services).
    match_pending = models.BooleanField(default=False)
    match_queued_at = models.DateTimeField(null=True, blank=True)
    # Kept by PostgreSQL itself from the title (weight A) and description (weight B).
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("description", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("moderate_listing", "Can hide listings, saying why")]
        indexes = [
            GinIndex(fields=["search_vector"], name="listing_search_idx", fastupdate=False),
            models.Index(fields=["status", "-created_at"], name="listing_open_recent_idx"),
            models.Index(
                fields=["match_queued_at"],
                condition=models.Q(match_pending=True),
                name="listing_match_pending_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=15, duration_minutes__lte=8 * 60),
                name="listing_duration_15_minutes_to_8_hours",
            ),
            models.CheckConstraint(
                condition=models.Q(available_until__isnull=True)
                | models.Q(available_from__isnull=True)
                | models.Q(available_until__gte=models.F("available_from")),
                name="listing_date_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title


@network_model
class ListingSettings(models.Model):
    """The network's choices about listings (one row). Listings are for members; a
    network that wants visitors to see what its members offer says so here, and visitors
    then see the listings without the names of those who posted them."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    public_page = models.BooleanField(
        default=False,
        help_text="Show the listings page, without names, to visitors who are not signed in.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="listing_settings_single_row"),
        ]

    def __str__(self) -> str:
        return "Listing settings"


# A request's poster may invite at most this many matched members to respond.
INVITATIONS_PER_REQUEST = 5


@network_model
class ResponseInvitation(models.Model):
    """The poster of a request asked a member it matched to respond to it: once per member,
    at most INVITATIONS_PER_REQUEST per request (core.listings.services.listing_invite)."""

    listing = models.ForeignKey(
        Listing,
        on_delete=models.CASCADE,
        related_name="invitations",
        db_index=False,  # response_invitation_once_per_member leads with it
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="response_invitations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "member"], name="response_invitation_once_per_member"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} invited to {self.listing_id}"

"""Announcements: an organiser writes to all members or to a group (by role, profession or
organisation); each member it reaches has a `Recipient` row, which is both what the home
page shows until dismissed and the email's outbox (one message per member)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

TITLE_MAX = 200
BODY_MAX = 5000


class Audience(models.TextChoices):
    ALL = "all", _("All members")
    ROLE = "role", _("Members with a role")
    PROFESSION = "profession", _("Members of a profession")
    ORGANISATION = "organisation", _("Members of an organisation")


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


@network_model
class Announcement(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="announcements"
    )
    title = models.CharField(max_length=TITLE_MAX)
    body = models.TextField()  # plain text, escaped when shown
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.ALL)
    # The role, profession or organisation named by `audience` (empty for all members).
    audience_value = models.CharField(max_length=150, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.DRAFT)
    send_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("send_announcement", "Can write and send announcements to members")]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(state="scheduled") | models.Q(send_at__isnull=False),
                name="announcement_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=models.Q(audience="all", audience_value="")
                | (~models.Q(audience="all") & ~models.Q(audience_value="")),
                name="announcement_audience_value",
            ),
        ]
        indexes = [
            models.Index(
                fields=["send_at"],
                condition=models.Q(state="scheduled"),
                name="announcement_due_idx",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.TextChoices):
    NOT_EMAILED = "not_emailed", _("Not emailed (their choice)")
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")


@network_model
class Recipient(models.Model):
    """One member an announcement reached: shown on their home page until `dismissed_at`,
    and emailed once if `email` was pending when it was sent. `queued_at` is the outbox's
    clock: the sweep queues again what is still pending a grace period after it."""

    announcement = models.ForeignKey(
        Announcement,
        on_delete=models.CASCADE,
        related_name="recipients",
        db_index=False,  # announcement_recipient_unique leads with it
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="announcements_received"
    )
    email = models.CharField(max_length=16, choices=Delivery.choices)
    # The address the email went to (a bounce names it) and why it failed or bounced.
    address = models.EmailField(max_length=254, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "member"], name="announcement_recipient_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(email__in=Delivery.values), name="announcement_delivery_known"
            ),
        ]
        indexes = [
            models.Index(
                fields=["member"],
                condition=models.Q(dismissed_at__isnull=True),
                name="announcement_shown_idx",
            ),
            models.Index(
                fields=["queued_at"],
                condition=models.Q(email="pending"),
                name="announcement_email_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.announcement_id}->{self.member_id}"

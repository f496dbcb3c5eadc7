"""Reports: a member tells the organisers about a listing, a message, a profile or an
exchange, and the organisers act on it from their queue (hide, warn, suspend, dismiss).

A report names its target by kind and id (the target's own table is in this schema) and
the member it is about (`subject`), when there is one here. What the reporter saw is kept
in `target_summary`, so the queue still shows it after the target changes or is hidden.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model


class TargetKind(models.TextChoices):
    LISTING = "listing", _("Listing")
    MESSAGE = "message", _("Message")
    PROFILE = "profile", _("Profile")
    EXCHANGE = "exchange", _("Exchange")


class Category(models.TextChoices):
    HARASSMENT = "harassment", _("Harassment or bullying")
    INAPPROPRIATE = "inappropriate", _("Inappropriate or offensive content")
    SAFETY = "safety", _("Worried about someone's safety")
    DISCRIMINATION = "discrimination", _("Discrimination")
    SPAM = "spam", _("Spam, selling or misuse of the time bank")
    OTHER = "other", _("Something else")


class Status(models.TextChoices):
    OPEN = "open", _("Waiting for an organiser")
    ACTIONED = "actioned", _("Acted on")
    DISMISSED = "dismissed", _("Dismissed")


class Outcome(models.TextChoices):
    HIDE_LISTING = "hide_listing", _("Hide the listing")
    HIDE_MESSAGE = "hide_message", _("Hide the message")
    WARN = "warn", _("Warn the member")
    SUSPEND = "suspend", _("Suspend the member")
    DISMISS = "dismiss", _("Dismiss: no action needed")


DETAILS_MAX = 2000


@network_model
class Report(models.Model):
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices)
    target_id = models.BigIntegerField()
    # The member the report is about, when they are a member here (not for a partner
    # network's member, nor an organiser's message).
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports_about",
    )
    target_summary = models.CharField(max_length=300)
    category = models.CharField(max_length=16, choices=Category.choices)
    details = models.TextField(max_length=DETAILS_MAX, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(max_length=500, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [("moderate_report", "Can see members' reports and act on them")]
        constraints = [
            # One open report per reporter and target: reporting it again is folded in.
            models.UniqueConstraint(
                fields=["reporter", "target_kind", "target_id"],
                condition=models.Q(status="open"),
                name="report_one_open_per_reporter_target",
            ),
            models.CheckConstraint(
                condition=models.Q(target_kind__in=TargetKind.values), name="report_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values), name="report_category_known"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status="open", outcome="", handled_at__isnull=True)
                    | (
                        ~models.Q(status="open")
                        & ~models.Q(outcome="")
                        & models.Q(handled_at__isnull=False)
                    )
                ),
                name="report_outcome_when_handled",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="report_queue_idx"),
            models.Index(fields=["target_kind", "target_id"], name="report_target_idx"),
        ]

    def __str__(self) -> str:
        return f"Report {self.pk}: {self.target_kind} {self.target_id}"

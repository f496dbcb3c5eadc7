"""Giving credit: a member gives some of their credit to another member, to a QI project or
to the network's community pot, with a message; organisers grant from the pot to members
who need it, with a reason. Each gift is one ledger transfer (`giving:<actor id>:<key>`)
and one `Gift` row, which keeps what the ledger does not: who or what received it, the
message, and the request's key. Gifts are never help given (see docs/decisions.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

STEP_MINUTES = 15
# Organisers' limits go up to 100 hours a month; the defaults (GivingSettings) are lower.
LIMIT_MAX_MINUTES = 100 * 60


def _in_steps(field: str) -> Exact:
    return Exact(Mod(field, STEP_MINUTES), 0)


class GiftKind(models.TextChoices):
    MEMBER = "member", _("To a member")
    PROJECT = "project", _("To a QI project")
    POT = "pot", _("To the community pot")
    GRANT = "grant", _("Grant from the community pot")


# What a member gives from their own credit, counted against their monthly limit.
GIVEN_BY_MEMBERS = (GiftKind.MEMBER, GiftKind.PROJECT, GiftKind.POT)


@network_model
class Gift(models.Model):
    kind = models.CharField(max_length=8, choices=GiftKind.choices)
    # The giver; for a grant, the organiser who made it (the pot pays).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="gifts_made",
        db_index=False,  # gift_actor_recent_idx leads with it
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="gifts_received",
        null=True,
        blank=True,
        db_index=False,  # gift_recipient_recent_idx leads with it
    )
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="gifts", null=True, blank=True
    )
    minutes = models.PositiveIntegerField()
    # The giver's message, or the organiser's reason for a grant: shown to the receiver
    # (a project's lead for a project), never to anyone else.
    message = models.CharField(max_length=500, blank=True)
    # The request's name (a form's hidden key, the API's Idempotency-Key): the same key
    # again from the same actor is the same gift.
    key = models.CharField(max_length=255)
    transfer = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, related_name="gift", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("manage_pot", "Can grant from the community pot and set the giving limits")]
        indexes = [
            models.Index(fields=["actor", "created_at"], name="gift_actor_recent_idx"),
            models.Index(fields=["recipient", "created_at"], name="gift_recipient_recent_idx"),
            models.Index(fields=["kind", "created_at"], name="gift_kind_recent_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["actor", "key"], name="gift_one_per_actor_key"),
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0) & models.Q(_in_steps("minutes")),
                name="gift_quarter_hours",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind__in=["member", "grant"], recipient__isnull=False, project__isnull=True
                    )
                    | models.Q(kind="project", recipient__isnull=True, project__isnull=False)
                    | models.Q(kind="pot", recipient__isnull=True, project__isnull=True)
                ),
                name="gift_target_matches_kind",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="grant") | ~models.Q(message=""),
                name="gift_grant_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} gift of {self.minutes} min by {self.actor_id}"


@network_model
class GivingSettings(models.Model):
    """The network's limits on giving (one row, made by migration so it can be locked)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    member_monthly_minutes = models.PositiveIntegerField(
        default=10 * 60, help_text="Most a member may give in a calendar month."
    )
    pot_monthly_minutes = models.PositiveIntegerField(
        default=20 * 60, help_text="Most organisers may grant from the pot in a calendar month."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="giving_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(
                    member_monthly_minutes__lte=LIMIT_MAX_MINUTES,
                    pot_monthly_minutes__lte=LIMIT_MAX_MINUTES,
                )
                & models.Q(_in_steps("member_monthly_minutes"))
                & models.Q(_in_steps("pot_monthly_minutes")),
                name="giving_settings_limits_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Giving: {self.member_monthly_minutes} min a member, {self.pot_monthly_minutes} pot"

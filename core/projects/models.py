"""QI projects: a lead proposes one with an hour budget, an organiser funds it from the
network's issuance account, members volunteer, and the lead confirms their hours, which
the ledger pays from the project's own account."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

# The largest budget a lead may ask for: 1,000 hours.
BUDGET_MAX_MINUTES = 1000 * 60
STEP_MINUTES = 15


def _in_steps(field: str) -> Exact:
    return Exact(Mod(field, STEP_MINUTES), 0)


@network_model
class Project(models.Model):
    class State(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved and funded")
        DECLINED = "declined", _("Declined")
        CLOSED = "closed", _("Closed")

    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_projects"
    )
    title = models.CharField(max_length=120)
    aim = models.CharField(max_length=300)
    description = models.TextField(max_length=5000)
    budget_minutes = models.PositiveIntegerField()
    # Lower-case tags like members' skills ("run charts", "qi methods").
    skills_wanted = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    declined_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    funded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("propose_project", "Can propose QI projects"),
            ("fund_project", "Can approve, fund and decline QI projects"),
        ]
        indexes = [models.Index(fields=["state", "-created_at"], name="project_state_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["proposed", "approved", "declined", "closed"]),
                name="project_state_known",
            ),
            models.CheckConstraint(
                condition=models.Q(budget_minutes__gt=0, budget_minutes__lte=BUDGET_MAX_MINUTES)
                & models.Q(_in_steps("budget_minutes")),
                name="project_budget_quarter_hours",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")),
                name="project_dates_ordered",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="declined") | ~models.Q(declined_reason=""),
                name="project_declined_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title


@network_model
class Volunteer(models.Model):
    """A member's pledge to a project and the hours its lead has confirmed so far
    (`confirmed_minutes` is the sum of the member's confirmations, kept in the same
    transaction as each one)."""

    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="volunteers",
        db_index=False,  # volunteer_once_per_project leads with it
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="volunteering"
    )
    pledged_minutes = models.PositiveIntegerField()
    confirmed_minutes = models.PositiveIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "member"], name="volunteer_once_per_project"
            ),
            models.CheckConstraint(
                condition=models.Q(pledged_minutes__gt=0) & models.Q(_in_steps("pledged_minutes")),
                name="volunteer_pledge_quarter_hours",
            ),
            models.CheckConstraint(
                condition=models.Q(_in_steps("confirmed_minutes")),
                name="volunteer_confirmed_quarter_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} on project {self.project_id}"


@network_model
class HoursConfirmation(models.Model):
    """One confirmation of a volunteer's hours for one day, paid by one ledger transfer
    (`project:<project id>:confirmation:<id>`). A volunteer's day is confirmed once, so
    the same confirmation sent again (Back and resubmit, a retry) finds this row, whatever
    `key` (the client's name for the request) it carries."""

    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        related_name="confirmations",
        db_index=False,  # hours_confirmation_once_per_day leads with it
    )
    key = models.CharField(max_length=64)
    # The day the hours were given; empty only on confirmations made before days were kept.
    worked_on = models.DateField(null=True, blank=True)
    minutes = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["key"], name="hours_confirmation_key_unique"),
            models.UniqueConstraint(
                fields=["volunteer", "worked_on"], name="hours_confirmation_once_per_day"
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__gt=0) & models.Q(_in_steps("minutes")),
                name="hours_confirmation_quarter_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.minutes} min for volunteer {self.volunteer_id}"

"""Exchanges: one member helping another, from the first response to the credit moving.

An exchange lives in the schema of the network whose listing it answers. Both sides are
usually members of that network (`giver` and `receiver`). When a member of a partner
network takes part, their side is null and `remote_network_id`, `remote_member_id` and
`remote_name` ("name (network)") say who they are: nothing else of theirs is stored here.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model


class State(models.TextChoices):
    RESPONDED = "responded", _("Waiting for a reply")
    ACCEPTED = "accepted", _("Agreeing a time")
    SCHEDULED = "scheduled", _("Meeting arranged")
    RECORDED = "recorded", _("Hours waiting for confirmation")
    DISPUTED = "disputed", _("Disputed: with an organiser")
    COMPLETED = "completed", _("Completed")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


# States in which nothing more can happen.
FINAL_STATES = frozenset({State.COMPLETED, State.DECLINED, State.CANCELLED})
# Hours are recorded in quarter-hour steps, up to a long day.
MINUTES_STEP = 15
MAX_MINUTES = 12 * 60
# How long an agreed meeting takes in calendars (an exchange agrees a start, not an end).
DEFAULT_MEETING_MINUTES = 60


# What the pages, the API and the calendars show of an exchange's listing and of its two
# sides. `shown()` reads only these with the exchange: a member's row is thirty columns, a
# listing's carries its search vector, and building the SQL for every column of three
# joined tables took longer than running it. Anything else of them is read on first use.
SHOWN_WITH_EXCHANGE = (
    "listing__title",
    "listing__kind",
    "listing__category",
    "listing__format",
    "listing__owner",
    "giver__full_name",
    "receiver__full_name",
)


class ExchangeQuerySet(models.QuerySet["Exchange"]):
    def shown(self) -> ExchangeQuerySet:
        """The exchanges with their listing and sides, as much of them as is shown."""
        own = [field.name for field in self.model._meta.concrete_fields]
        return self.select_related("listing", "giver", "receiver").only(*own, *SHOWN_WITH_EXCHANGE)


@network_model
class Exchange(models.Model):
    listing = models.ForeignKey(
        "listings.Listing", on_delete=models.PROTECT, related_name="exchanges"
    )
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchanges_given",
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exchanges_received",
    )
    # A member of a partner network (plain ids: their network's schema is not ours).
    remote_network_id = models.BigIntegerField(null=True, blank=True)
    remote_member_id = models.BigIntegerField(null=True, blank=True)
    remote_name = models.CharField(max_length=260, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.RESPONDED)
    minutes = models.PositiveIntegerField(null=True, blank=True, help_text="Hours recorded.")
    meeting_at = models.DateTimeField(null=True, blank=True)
    meeting_place = models.CharField(max_length=300, blank=True)
    # The agreed meeting's video-call link (https only: kernel.ics.video_link_clean).
    video_link = models.URLField(max_length=500, blank=True)
    # The SEQUENCE of the meeting's calendar invite: raised by every agreed time and by a
    # cancellation, so calendars replace their copy (kernel.ics). An IntegerField with a
    # named check, not a PositiveIntegerField: Citus refuses ADD COLUMN with an unnamed check.
    meeting_sequence = models.IntegerField(default=0)
    # The day the two sides met: the agreed meeting's date, or the date the giver gives
    # when they met without agreeing a time here. Set when the hours are recorded.
    met_on = models.DateField(null=True, blank=True)
    dispute_reason = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    objects = ExchangeQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        permissions = [
            ("settle_dispute", "Can settle disputed exchanges"),
            ("view_all_exchanges", "Can see every exchange in the network"),
        ]
        indexes = [
            models.Index(fields=["state", "recorded_at"], name="exchange_state_recorded_idx"),
            models.Index(fields=["state", "meeting_at"], name="exchange_state_meeting_idx"),
            models.Index(fields=["state", "completed_at"], name="exchange_completed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=State.values), name="exchange_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(meeting_sequence__gte=0), name="exchange_meeting_sequence_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__isnull=True)
                | models.Q(minutes__gte=MINUTES_STEP, minutes__lte=MAX_MINUTES),
                name="exchange_minutes_in_range",
            ),
            # Either both sides are members here, or exactly one is a remote member.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        giver__isnull=False,
                        receiver__isnull=False,
                        remote_member_id__isnull=True,
                        remote_network_id__isnull=True,
                    )
                    | models.Q(
                        giver__isnull=True,
                        receiver__isnull=False,
                        remote_member_id__isnull=False,
                        remote_network_id__isnull=False,
                    )
                    | models.Q(
                        giver__isnull=False,
                        receiver__isnull=True,
                        remote_member_id__isnull=False,
                        remote_network_id__isnull=False,
                    )
                ),
                name="exchange_two_sides",
            ),
            models.CheckConstraint(
                condition=~models.Q(giver=models.F("receiver")), name="exchange_not_with_self"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="completed")
                | models.Q(minutes__isnull=False, completed_at__isnull=False),
                name="exchange_completed_has_hours",
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__isnull=True) | models.Q(met_on__isnull=False),
                name="exchange_hours_have_meeting_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Exchange {self.pk} on {self.listing_id}"

    @property
    def is_remote(self) -> bool:
        return self.remote_member_id is not None

    @property
    def giver_name(self) -> str:
        return self.giver.full_name if self.giver is not None else self.remote_name

    @property
    def receiver_name(self) -> str:
        return self.receiver.full_name if self.receiver is not None else self.remote_name

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def ledger_key(self) -> str:
        return f"exchange:{self.pk}:complete"


@network_model
class Proposal(models.Model):
    """A suggested time and place (or video link); the other side accepts it or counters."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        SUPERSEDED = "superseded", _("Replaced by a later suggestion")

    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="proposals")
    # Which side proposed: "giver" or "receiver" (a remote member has no row here).
    proposed_by = models.CharField(max_length=8)
    starts_at = models.DateTimeField()
    place = models.CharField(max_length=300, help_text="An address, or how you will meet.")
    video_link = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["exchange"],
                condition=models.Q(status="open"),
                name="proposal_one_open_per_exchange",
            ),
            models.CheckConstraint(
                condition=models.Q(proposed_by__in=["giver", "receiver"]),
                name="proposal_side_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} at {self.place}"


@network_model
class Message(models.Model):
    """The exchange's thread: read by its two sides and, once disputed, by organisers."""

    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="messages")
    # "giver", "receiver" or "organiser"; author_name is kept as written at the time.
    side = models.CharField(max_length=9)
    author_name = models.CharField(max_length=260)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when an organiser hides the message (acting on a report): both sides then see
    # that it was hidden, not what it said. The text is kept for the record.
    hidden_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(side__in=["giver", "receiver", "organiser"]),
                name="message_side_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.body[:40]}"


@network_model
class Thanks(models.Model):
    """A short thank-you after a completed exchange, shown on the other side's profile."""

    exchange = models.ForeignKey(
        Exchange,
        on_delete=models.CASCADE,
        related_name="thanks",
        db_index=False,  # thanks_once_per_side leads with it
    )
    side = models.CharField(max_length=8)  # the side that wrote it: "giver" or "receiver"
    author_name = models.CharField(max_length=260)
    # The member thanked, when they are a member of this network.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="thanks_received",
    )
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "side"], name="thanks_once_per_side"),
            models.CheckConstraint(
                condition=models.Q(side__in=["giver", "receiver"]), name="thanks_side_known"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:40]


@network_model
class ExchangeSettings(models.Model):
    """The network's rules for exchanges (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    auto_confirm_days = models.PositiveSmallIntegerField(
        default=7,
        help_text="Days after hours are recorded before they are confirmed automatically.",
    )
    # The person members contact when they are worried about someone's safety, shown on
    # every exchange page (of partner networks' members too). Empty until an organiser
    # names one.
    safeguarding_name = models.CharField(max_length=150, blank=True)
    safeguarding_role = models.CharField(max_length=150, blank=True)
    safeguarding_email = models.EmailField(max_length=254, blank=True)
    safeguarding_phone = models.CharField(max_length=40, blank=True)
    safeguarding_note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="exchange_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(auto_confirm_days__gte=1, auto_confirm_days__lte=60),
                name="exchange_settings_auto_confirm_1_to_60_days",
            ),
        ]

    def __str__(self) -> str:
        return f"Auto-confirm after {self.auto_confirm_days} days"

    @property
    def has_safeguarding_contact(self) -> bool:
        return bool(self.safeguarding_name)

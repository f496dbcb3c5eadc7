"""Group sessions: one member gives (a teaching session, a QI masterclass, a webinar),
many members of the same network book, attend and confirm; and each member's private
calendar feed.

A session lives in its network's schema and is for that network's members only: there is
no remote side as exchanges have. Credit moves once per session, when every attendance
is settled, in one balanced transfer (docs/decisions.md, "Group sessions").
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.listings.models import Listing
from kernel.silo import network_model

# A session is booked in quarter-hour lengths, up to a long day, like exchange hours.
MINUTES_STEP = 15
MAX_MINUTES = 8 * 60
MAX_CAPACITY = 500


class SessionState(models.TextChoices):
    OPEN = "open", _("Open for booking")
    HELD = "held", _("Attendance marked: waiting for confirmations")
    SETTLED = "settled", _("Settled: the credit has moved")
    CANCELLED = "cancelled", _("Cancelled")


class Format(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    ONLINE = "online", _("Online (webinar or video call)")
    HYBRID = "hybrid", _("In person and online")


@network_model
class GroupSession(models.Model):
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_given"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=4000, blank=True)
    category = models.CharField(max_length=32, choices=Listing.Category.choices)
    format = models.CharField(max_length=16, choices=Format.choices)
    starts_at = models.DateTimeField()
    minutes = models.PositiveIntegerField()
    capacity = models.PositiveIntegerField()
    place = models.CharField(max_length=300, blank=True)
    video_link = models.URLField(max_length=500, blank=True)
    state = models.CharField(max_length=12, choices=SessionState.choices, default=SessionState.OPEN)
    # The SEQUENCE of the session's calendar invites: raised by every change an invite
    # reports (kernel.ics), so each attendee's calendar replaces its copy.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    held_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["state", "starts_at"], name="groupsession_state_start_idx"),
            models.Index(fields=["state", "held_at"], name="groupsession_state_held_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=SessionState.values), name="groupsession_state_known"
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=Format.values), name="groupsession_format_known"
            ),
            models.CheckConstraint(
                condition=models.Q(minutes__gte=MINUTES_STEP, minutes__lte=MAX_MINUTES),
                name="groupsession_minutes_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1, capacity__lte=MAX_CAPACITY),
                name="groupsession_capacity_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="settled") | models.Q(settled_at__isnull=False),
                name="groupsession_settled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def ledger_key(self) -> str:
        return f"groupsession:{self.pk}:settle"


class BookingState(models.TextChoices):
    BOOKED = "booked", _("Booked")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")
    ABSENT = "absent", _("Did not attend")
    ATTENDED = "attended", _("Attended: please confirm")
    CONFIRMED = "confirmed", _("Attendance confirmed")
    DISPUTED = "disputed", _("Disputed: with an organiser")
    WAIVED = "waived", _("Attended: no charge (settled by an organiser)")


# Bookings holding a place before the session.
HOLDING = frozenset({BookingState.BOOKED})
# Attendances that pay their share when the session settles.
PAYING = frozenset({BookingState.CONFIRMED})
# Attendances that hold the settlement back until they are answered.
UNSETTLED = frozenset({BookingState.ATTENDED, BookingState.DISPUTED})


@network_model
class Booking(models.Model):
    """A member's place (or place in the queue) at a session, then their attendance."""

    session = models.ForeignKey(
        GroupSession,
        on_delete=models.CASCADE,
        related_name="bookings",
        db_index=False,  # booking_once_per_member leads with it
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="session_bookings"
    )
    state = models.CharField(max_length=12, choices=BookingState.choices)
    # The waiting list's order: when the member joined it (set again on re-joining).
    queued_at = models.DateTimeField()
    dispute_reason = models.CharField(max_length=1000, blank=True)
    # What the member paid when the session settled (their share), in minutes.
    paid_minutes = models.PositiveIntegerField(null=True, blank=True)
    attended_marked_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="booking_once_per_member"),
            models.CheckConstraint(
                condition=models.Q(state__in=BookingState.values), name="booking_state_known"
            ),
        ]
        indexes = [
            models.Index(fields=["session", "state", "queued_at"], name="booking_session_state_idx")
        ]

    def __str__(self) -> str:
        return f"{self.member_id} at {self.session_id}: {self.state}"


@network_model
class CalendarFeed(models.Model):
    """A member's private calendar feed: `/calendar/<secret>.ics`, read without signing in
    by Outlook or Google Calendar. Only the secret's SHA-256 is stored; a new secret
    replaces the old one, which stops working at once."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_read_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.member_id}"

"""In-app notifications, each optionally emailed once, and members' email preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model


class Kind(models.TextChoices):
    RESPONSE_RECEIVED = "response_received", _("Someone responded to your listing")
    RESPONSE_ACCEPTED = "response_accepted", _("Your response was accepted")
    RESPONSE_DECLINED = "response_declined", _("Your response was declined")
    MEETING_PROPOSED = "meeting_proposed", _("A time to meet suggested or agreed")
    EXCHANGE_MESSAGE = "exchange_message", _("New message about an exchange")
    DISPUTE = "dispute", _("Disputed hours and their settlement")
    MEETING_REMINDER = "meeting_reminder", _("Meeting reminder (24 hours before)")
    CONFIRM_HOURS = "confirm_hours", _("Please confirm hours")
    HOURS_CONFIRMED = "hours_confirmed", _("Hours confirmed and credits received")
    WEEKLY_DIGEST = "weekly_digest", _("Weekly digest of listings matching your skills")
    ACCOUNT = "account", _("Your account")
    PROJECT_VOLUNTEER = "project_volunteer", _("Someone volunteered for your project")
    PROJECT_FUNDED = "project_funded", _("Your project was funded")
    PROJECT_DECLINED = "project_declined", _("Your project was declined")
    JOIN_REQUEST = "join_request", _("Organisers: someone asked to join the network")
    PROJECT_PROPOSED = "project_proposed", _("Organisers: a project was proposed for funding")
    REPORT = "report", _("Your reports: received and looked at")
    WARNING = "warning", _("A warning from the organisers")
    REPORT_FILED = "report_filed", _("Organisers: a member reported something")
    GROUP_SESSION = "group_session", _("Group sessions: bookings, places and changes")
    GIFT_RECEIVED = "gift_received", _("Someone gave you (or your project) credit")
    STORY_PICKED = "story_picked", _("Your story was picked for the network's pages")
    REQUEST_MATCH = (
        "request_match",
        _("New requests matching your skills (one email a day at most)"),
    )
    INVITED_TO_RESPOND = "invited_to_respond", _("Someone invited you to respond to their request")
    ANNOUNCEMENT = "announcement", _("Announcements from the organisers")


# Kinds a member may also turn off in the app, not only by email (`EmailPreference.in_app`),
# with how the choice reads.
IN_APP_OPTIONAL = {Kind.REQUEST_MATCH: _("New requests that match my skills")}
# Kinds emailed only when the member asks (no row means "do not email me").
EMAIL_OFF_BY_DEFAULT = (Kind.REQUEST_MATCH,)
# Kinds never emailed one by one: a daily summary notification gathers the day's
# (core.notifications.services.notifications_daily_summaries).
EMAILED_DAILY = (Kind.REQUEST_MATCH,)
# Kinds sent to many members at once (the weekly digest, the daily summary of matching
# requests, announcements): each such email carries RFC 8058 one-click List-Unsubscribe
# headers for its kind (core.notifications.unsubscribe).
BULK_KINDS = (Kind.WEEKLY_DIGEST, Kind.REQUEST_MATCH, Kind.ANNOUNCEMENT)


@network_model
class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_recent_idx leads with it
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The caller's idempotency key, e.g. "exchange:42:accepted:to:7": repeating the event
    # never notifies twice.
    key = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # The outbox: True from the commit that records a notification to be emailed until the
    # email has left (core.notifications.tasks). What a lost message or a failed send
    # leaves pending, the sweep queues again, a grace period after it was last queued.
    email_pending = models.BooleanField(default=False)
    email_queued_at = models.DateTimeField(null=True, blank=True)
    # An iCalendar invite (kernel.ics) the email carries as its attachment, fixed when
    # the event happened: a later change sends its own invite with a higher SEQUENCE.
    calendar = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["email_queued_at"],
                condition=models.Q(email_pending=True),
                name="notification_email_pending_idx",
            ),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.title


@network_model
class EmailPreference(models.Model):
    """A member's choice for one kind of notification; no row means "email me" (except the
    kinds in EMAIL_OFF_BY_DEFAULT) and "show me in the app"."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="email_preferences",
        db_index=False,  # email_preference_unique leads with it
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    email = models.BooleanField(default=True)
    # Read for the kinds in IN_APP_OPTIONAL only: off, the member is not told at all.
    in_app = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind"], name="email_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.kind}={'on' if self.email else 'off'}"


@network_model
class PushSubscription(models.Model):
    """One browser a member turned Web Push on in (the Push API's subscription): where the
    push service takes messages for it and the keys that encrypt them for it alone. Removed
    when the member turns push off there, or when the push service answers that it is gone
    (404 or 410)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="push_subscriptions",
        db_index=False,  # push_subscription_unique leads with it
    )
    endpoint = models.URLField(max_length=1000)
    # The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url.
    p256dh = models.CharField(max_length=100)
    auth = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "endpoint"], name="push_subscription_unique")
        ]

    def __str__(self) -> str:
        return f"push for member {self.member_id}"


@network_model
class BouncedAddress(models.Model):
    """An address the mail relay reported as bouncing: the platform mails it no more (a
    member who changes their address is mailed at the new one)."""

    address = models.EmailField(max_length=254, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    bounced_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.address

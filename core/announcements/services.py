"""Writing and sending announcements.

An organiser writes a draft, previews it, then sends it now or schedules it (beat sends the
due ones: `announcements_due`). Sending records a `Recipient` per member the audience
reaches, in one statement, in the transaction that marks the announcement sent: the home
pages show it from that commit. Each recipient who wants the email (their
`Kind.ANNOUNCEMENT` preference, an address that never bounced) is pending in the outbox;
after the commit the pending ones are queued in batches of EMAIL_BATCH, one message per
member (tasks.announcement_email_batch), and `announcements_email_sweep` queues again what
a lost message or a crashed worker left pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.members.models import Member, Profession, Role
from core.notifications.models import BouncedAddress, EmailPreference, Kind
from core.notifications.services import bounce_record_step
from kernel.db import connection, durable_service, outbox_claim
from kernel.errors import ApplicationError, PermissionDenied
from kernel.text import markup_refuse

from .models import BODY_MAX, TITLE_MAX, Announcement, Audience, Delivery, Recipient, State
from .selectors import PERMISSION, audience_members

# Recipients per email task: each its own message, over one connection to the relay.
EMAIL_BATCH = 100
# How far ahead an announcement may be scheduled.
SCHEDULE_HORIZON = timedelta(days=365)


class AnnouncementRefused(ApplicationError):
    pass


def _check_organiser(actor: Member) -> None:
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("Only organisers can send announcements."))


def _audience_checked(audience: str, value: str) -> str:
    if audience == Audience.ALL:
        return ""
    known = {Audience.ROLE: Role.values, Audience.PROFESSION: Profession.values}
    if audience not in Audience.values:
        raise AnnouncementRefused(_("Choose who the announcement is for."), field="audience")
    value = markup_refuse(value, name="audience_value", refusal=AnnouncementRefused, required=True)
    if not value or (audience in known and value not in known[Audience(audience)]):
        raise AnnouncementRefused(
            _("Choose the role, profession or organisation it is for."), field="audience_value"
        )
    return value[:150]


@durable_service
def announcement_create(
    *, actor: Member, title: str, body: str, audience: str = Audience.ALL, audience_value: str = ""
) -> Announcement:
    """An organiser writes a draft announcement (audited); nothing is sent until
    `announcement_send`."""
    _check_organiser(actor)
    title = markup_refuse(title, name="title", refusal=AnnouncementRefused, required=True)
    body = markup_refuse(body, name="body", refusal=AnnouncementRefused, required=True)
    if not title:
        raise AnnouncementRefused(_("Give the announcement a title."), field="title")
    if not body:
        raise AnnouncementRefused(_("Write what you want to tell members."), field="body")
    if len(title) > TITLE_MAX or len(body) > BODY_MAX:
        raise AnnouncementRefused(
            _("Keep the title to %(title)d characters and the text to %(body)d.")
            % {"title": TITLE_MAX, "body": BODY_MAX},
            field="body" if len(body) > BODY_MAX else "title",
        )
    value = _audience_checked(audience, audience_value)
    announcement = Announcement.objects.create(
        author=actor, title=title, body=body, audience=audience, audience_value=value
    )
    audit_record(
        actor=actor,
        verb="announcement.create",
        target=announcement,
        after={"title": title, "audience": audience, "audience_value": value},
    )
    return announcement


def _locked(announcement: Announcement) -> Announcement:
    return Announcement.objects.select_for_update().get(pk=announcement.pk)


@durable_service
def announcement_send(
    *, actor: Member, announcement: Announcement, send_at: datetime | None = None
) -> Announcement:
    """Send a draft now, or schedule it for `send_at` (a time in the future: beat sends it
    then). The row is locked: two organisers pressing at once send it once. Audited."""
    _check_organiser(actor)
    now = timezone.now()
    announcement = _locked(announcement)
    if announcement.state != State.DRAFT:
        raise AnnouncementRefused(
            _("This announcement is %(state)s; only a draft can be sent.")
            % {"state": announcement.get_state_display().lower()}
        )
    if send_at is not None and send_at > now:
        if send_at > now + SCHEDULE_HORIZON:
            raise AnnouncementRefused(_("Schedule it within a year from now."), field="send_at")
        announcement.state, announcement.send_at = State.SCHEDULED, send_at
        announcement.save(update_fields=["state", "send_at"])
        audit_record(
            actor=actor,
            verb="announcement.schedule",
            target=announcement,
            before={"state": State.DRAFT},
            after={"state": State.SCHEDULED, "send_at": send_at.isoformat()},
        )
        return announcement
    reached = _deliver(announcement, now=now)
    audit_record(
        actor=actor,
        verb="announcement.send",
        target=announcement,
        before={"state": State.DRAFT},
        after={"state": State.SENT, "recipients": reached},
    )
    return announcement


@durable_service
def announcement_cancel(*, actor: Member, announcement: Announcement) -> Announcement:
    """Cancel a draft or a scheduled announcement before it is sent (audited); a sent one
    cannot be called back."""
    _check_organiser(actor)
    announcement = _locked(announcement)
    if announcement.state not in (State.DRAFT, State.SCHEDULED):
        raise AnnouncementRefused(_("This announcement was already sent or cancelled."))
    before = {"state": announcement.state}
    announcement.state = State.CANCELLED
    announcement.save(update_fields=["state"])
    audit_record(
        actor=actor,
        verb="announcement.cancel",
        target=announcement,
        before=before,
        after={"state": State.CANCELLED},
    )
    return announcement


def _deliver(announcement: Announcement, *, now: datetime) -> int:
    """Mark the (locked) announcement sent and record its recipients, in the caller's
    transaction; queue the pending emails once it commits. Returns how many it reached."""
    members = audience_members(audience=announcement.audience, value=announcement.audience_value)
    declined = EmailPreference.objects.filter(
        member=OuterRef("pk"), kind=Kind.ANNOUNCEMENT, email=False
    )
    bounced = BouncedAddress.objects.filter(address=OuterRef("email"))
    rows = members.annotate(declined=Exists(declined), bounced=Exists(bounced)).values_list(
        "pk", "email", "declined", "bounced"
    )
    recipients = []
    for member_id, address, no_email, bounced_before in rows.iterator():
        state = (
            Delivery.NOT_EMAILED
            if no_email
            else Delivery.BOUNCED
            if bounced_before
            else Delivery.PENDING
        )
        recipients.append(
            Recipient(
                announcement=announcement,
                member_id=member_id,
                email=state,
                address=address,
                queued_at=now if state == Delivery.PENDING else None,
                reason=_("An earlier email to this address bounced.") if bounced_before else "",
            )
        )
    Recipient.objects.bulk_create(recipients, batch_size=1000, ignore_conflicts=True)
    announcement.state, announcement.sent_at = State.SENT, now
    announcement.save(update_fields=["state", "sent_at"])
    schema_name = connection.schema_name
    pk = announcement.pk
    transaction.on_commit(
        lambda: announcement_email_queue(schema_name=schema_name, announcement_id=pk),
        robust=True,
    )
    return len(recipients)


def announcement_email_queue(*, schema_name: str, announcement_id: int) -> int:
    """Queue the pending emails of an announcement, EMAIL_BATCH recipients per task.
    Returns how many tasks were queued."""
    ids = list(
        Recipient.objects.filter(announcement_id=announcement_id, email=Delivery.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return _queue_batches(schema_name=schema_name, ids=ids)


def _queue_batches(*, schema_name: str, ids: list[int]) -> int:
    from .tasks import announcement_email_batch

    batches = [ids[start : start + EMAIL_BATCH] for start in range(0, len(ids), EMAIL_BATCH)]
    for batch in batches:
        announcement_email_batch.delay(schema_name=schema_name, recipient_ids=batch)
    return len(batches)


def announcements_email_sweep(*, grace: timedelta) -> int:
    """Queue again the announcement emails still pending `grace` after they were last
    queued (their message lost while Redis was down, or a worker died). Returns how many
    recipients were queued. Runs in the current network's schema."""
    with transaction.atomic(durable=True):
        ids = outbox_claim(
            Recipient.objects.filter(email=Delivery.PENDING), queued_at="queued_at", grace=grace
        )
    _queue_batches(schema_name=connection.schema_name, ids=sorted(ids))
    return len(ids)


def announcements_due(*, now: datetime | None = None) -> int:
    """Send every scheduled announcement whose time has come (beat, every minute, in each
    network). One transaction each, the row locked and skipped if another run holds it, so
    two runs at once send each once. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    due = Announcement.objects.filter(state=State.SCHEDULED, send_at__lte=now)
    for pk in due.order_by("send_at").values_list("pk", flat=True):
        with transaction.atomic(durable=True):
            announcement = (
                Announcement.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, state=State.SCHEDULED)
                .first()
            )
            if announcement is None:
                continue
            reached = _deliver(announcement, now=now)
            audit_record(
                actor=None,
                verb="announcement.send",
                target=announcement,
                before={"state": State.SCHEDULED},
                after={"state": State.SENT, "recipients": reached},
            )
        sent += 1
    return sent


@durable_service
def announcement_dismiss(*, actor: Member, announcement_id: int) -> bool:
    """The member hides an announcement from their home page. Returns whether it was shown
    to them (an announcement that never reached them, or from another network, is not)."""
    return bool(
        Recipient.objects.filter(
            announcement_id=announcement_id, member=actor, dismissed_at__isnull=True
        ).update(dismissed_at=timezone.now())
    )


@durable_service
def recipients_bounced(*, address: str, reason: str) -> int:
    """Record a bounce reported for `address` (the relay's webhook or an operator's
    command): the address is not mailed again, and the announcement emails sent to it
    count as bounced. Returns how many such emails there were."""
    address = address.strip().lower()
    bounce_record_step(address=address, reason=reason)
    return Recipient.objects.filter(address=address, email=Delivery.SENT).update(
        email=Delivery.BOUNCED, reason=reason[:500]
    )


def announcements_erase_for_member(*, member: Member) -> None:
    """Forget the address a leaving member's announcements were emailed to and the relay's
    answers (inside the caller's transaction); the rows stay, so organisers' counts do.
    An email still pending is not sent (the address is erased)."""
    Recipient.objects.filter(member=member, email=Delivery.PENDING).update(
        email=Delivery.NOT_EMAILED
    )
    Recipient.objects.filter(member=member).update(address="", reason="")

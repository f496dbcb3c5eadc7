"""Sending notifications: recorded in-app at once, emailed by Celery after commit."""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.members.models import Member, MemberState
from hexitime.db import connection, durable_service, outbox_claim

from .models import EmailPreference, Kind, Notification


def notification_send(
    *, recipient: Member, kind: Kind, key: str, title: str, body: str = "", url: str = "",
    calendar: str = "",
) -> Notification:  # fmt: skip
    """Notify a member once per `key`.

    Call it inside the transaction that makes the change it reports: the notification
    commits with the change, and its email is queued only after that commit (never for
    a change that rolled back). Repeating a key returns the first notification and sends
    nothing more. `calendar`, an iCalendar invite (hexitime.ics), goes with the email as
    its attachment.

    The notification row is the email's outbox (`email_pending`): a failure to queue the
    email after the commit is logged, never raised into the change that committed, and
    `notifications_email_sweep` queues it again later.
    """
    wanted = email_wanted(member=recipient, kind=kind)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, key=key, title=title, body=body, url=url,
                calendar=calendar, email_pending=wanted,
                email_queued_at=timezone.now() if wanted else None,
            )  # fmt: skip
    except IntegrityError:
        return Notification.objects.get(key=key)
    if wanted:
        schema_name = connection.schema_name
        transaction.on_commit(
            lambda: notification_email_queue(schema_name=schema_name, ids=[notification.pk]),
            robust=True,
        )
    return notification


def notification_email_queue(*, schema_name: str, ids: list[int]) -> None:
    """Queue the email of each pending notification; delivering one already sent sends
    nothing (tasks.notification_email)."""
    from .tasks import notification_email

    for notification_id in ids:
        notification_email.delay(schema_name=schema_name, notification_id=notification_id)


def notifications_email_sweep(*, grace: timedelta, horizon: timedelta) -> int:
    """Queue again the email of every notification still pending `grace` after it was last
    queued (its message was lost, or every retry failed), for notifications up to `horizon`
    old: older ones are left alone (an email that failed for days would only fail again).
    Returns how many were queued. Runs in the current network's schema."""
    pending = Notification.objects.filter(
        email_pending=True, created_at__gte=timezone.now() - horizon
    )
    with transaction.atomic(durable=True):
        ids = outbox_claim(pending, queued_at="email_queued_at", grace=grace)
    notification_email_queue(schema_name=connection.schema_name, ids=ids)
    return len(ids)


def email_wanted(*, member: Member, kind: str) -> bool:
    if member.state == MemberState.CLOSED:
        return False  # the address is erased (a placeholder that never delivers)
    preference = EmailPreference.objects.filter(member=member, kind=kind).first()
    return preference.email if preference is not None else True


@durable_service
def email_preferences_set(*, actor: Member, choices: dict[str, bool]) -> None:
    """Set the actor's own email choices, kind by kind (unknown kinds are ignored)."""
    for kind, email in choices.items():
        if kind in Kind.values:
            EmailPreference.objects.update_or_create(
                member=actor, kind=kind, defaults={"email": email}
            )


def notification_mark_read(*, actor: Member, notification_id: int) -> int:
    """Mark one of the actor's notifications read; returns how many changed (0 or 1)."""
    return Notification.objects.filter(
        pk=notification_id, recipient=actor, read_at__isnull=True
    ).update(read_at=timezone.now())


def notification_mark_all_read(*, actor: Member) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_erase_for_member(*, member: Member) -> None:
    """Delete a leaving member's notifications and email choices (inside the caller's
    transaction). An email already queued finds no row and sends nothing."""
    Notification.objects.filter(recipient=member).delete()
    EmailPreference.objects.filter(member=member).delete()

"""Sending notifications: recorded in-app at once, emailed by Celery after commit."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.members.models import Member, MemberState
from hexitime.db import connection

from .models import EmailPreference, Kind, Notification


def notification_send(
    *, recipient: Member, kind: Kind, key: str, title: str, body: str = "", url: str = ""
) -> Notification:
    """Notify a member once per `key`.

    Call it inside the transaction that makes the change it reports: the notification
    commits with the change, and its email is queued only after that commit (never for
    a change that rolled back). Repeating a key returns the first notification and sends
    nothing more.
    """
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, key=key, title=title, body=body, url=url
            )
    except IntegrityError:
        return Notification.objects.get(key=key)
    if email_wanted(member=recipient, kind=kind):
        schema_name = connection.schema_name
        transaction.on_commit(lambda: _queue_email(schema_name, notification.pk))
    return notification


def _queue_email(schema_name: str, notification_id: int) -> None:
    from .tasks import notification_email

    notification_email.delay(schema_name=schema_name, notification_id=notification_id)


def email_wanted(*, member: Member, kind: str) -> bool:
    if member.state == MemberState.CLOSED:
        return False  # the address is erased (a placeholder that never delivers)
    preference = EmailPreference.objects.filter(member=member, kind=kind).first()
    return preference.email if preference is not None else True


def email_preferences_set(*, actor: Member, choices: dict[str, bool]) -> None:
    """Set the actor's own email choices, kind by kind (unknown kinds are ignored)."""
    with transaction.atomic(durable=True):
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

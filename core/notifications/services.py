"""Sending notifications: recorded in-app at once, emailed by Celery after commit."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pywebpush import WebPushException, webpush

from core.members.models import Member, MemberState
from kernel.db import connection, durable_service, outbox_claim

from .models import (
    EMAIL_OFF_BY_DEFAULT,
    EMAILED_DAILY,
    IN_APP_OPTIONAL,
    BouncedAddress,
    EmailPreference,
    Kind,
    Notification,
    PushSubscription,
)
from .push import PushRefused, endpoint_check, keys_check, push_enabled, push_payload

logger = logging.getLogger(__name__)

# The key of a daily summary starts with this; the summarised notifications' never do.
DAILY_KEY = "daily:"


def notification_send(
    *,
    recipient: Member,
    kind: Kind,
    key: str,
    title: str,
    body: str = "",
    url: str = "",
    calendar: str = "",
) -> Notification:
    """Notify a member once per `key`.

    Call it inside the transaction that makes the change it reports: the notification
    commits with the change, and its email is queued only after that commit (never for
    a change that rolled back). Repeating a key returns the first notification and sends
    nothing more. `calendar`, an iCalendar invite (kernel.ics), goes with the email as
    its attachment.

    The notification row is the email's outbox (`email_pending`): a failure to queue the
    email after the commit is logged, never raised into the change that committed, and
    `notifications_email_sweep` queues it again later.

    Kinds in EMAILED_DAILY are not emailed here: `notifications_daily_summaries` emails
    them in one summary a day.
    """
    wanted = kind not in EMAILED_DAILY and email_wanted(member=recipient, kind=kind)
    return _notification_create(
        recipient=recipient,
        kind=kind,
        key=key,
        title=title,
        body=body,
        url=url,
        calendar=calendar,
        email=wanted,
    )


def _notification_create(
    *,
    recipient: Member,
    kind: Kind,
    key: str,
    title: str,
    body: str,
    url: str,
    email: bool,
    calendar: str = "",
    read: bool = False,
) -> Notification:
    """`notification_send`'s row, emailed if `email`, recorded read if `read`."""
    now = timezone.now()
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient,
                kind=kind,
                key=key,
                title=title,
                body=body,
                url=url,
                calendar=calendar,
                email_pending=email,
                email_queued_at=now if email else None,
                read_at=now if read else None,
            )
    except IntegrityError:
        return Notification.objects.get(key=key)
    if email:
        schema_name = connection.schema_name
        transaction.on_commit(
            lambda: notification_email_queue(schema_name=schema_name, ids=[notification.pk]),
            robust=True,
        )
    if not read and push_enabled():
        # Queued for every notification (the worker looks for the member's browsers), so
        # the change that notifies pays no query for it; only after the commit, like email.
        schema_name = connection.schema_name
        transaction.on_commit(
            lambda: notification_push_queue(
                schema_name=schema_name, notification_id=notification.pk
            ),
            robust=True,
        )
    return notification


def notification_push_queue(*, schema_name: str, notification_id: int) -> None:
    from .tasks import notification_push

    notification_push.delay(schema_name=schema_name, notification_id=notification_id)


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


def notifications_daily_summaries(*, now: datetime | None = None) -> int:
    """Email each member who chose it one summary of the day's notifications of each kind in
    EMAILED_DAILY: those since their last summary, at most a day back. The summary is a
    notification itself, recorded read (the app showed each already) and emailed through
    the outbox; its key names the member, kind and day, so a second run the same day sends
    nothing. Returns how many summaries this run recorded. Runs in the current network."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    recorded = 0
    wanting = EmailPreference.objects.filter(
        kind__in=EMAILED_DAILY,
        email=True,
        in_app=True,
        member__state=MemberState.ACTIVE,
        member__is_active=True,
    ).select_related("member")
    for preference in wanting.iterator():
        kind, member = Kind(preference.kind), preference.member
        key = f"{DAILY_KEY}{kind}:{member.pk}:{day}"
        of_kind = Notification.objects.filter(recipient=member, kind=kind)
        last = (
            of_kind.filter(key__startswith=DAILY_KEY)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        since = max(last, now - timedelta(days=1)) if last else now - timedelta(days=1)
        told = list(
            of_kind.exclude(key__startswith=DAILY_KEY)
            .filter(created_at__gt=since, created_at__lte=now)
            .order_by("created_at", "pk")[:50]
        )
        if not told or of_kind.filter(key=key).exists():
            continue
        with transaction.atomic(durable=True):
            _notification_create(
                recipient=member,
                kind=kind,
                key=key,
                email=True,
                read=True,
                title=_daily_title(kind, len(told)),
                url=told[0].url if len(told) == 1 else "",
                body="\n".join(f"- {n.title} ({n.url})" if n.url else f"- {n.title}" for n in told),
            )
        recorded += 1
    return recorded


def _daily_title(kind: Kind, count: int) -> str:
    if kind == Kind.REQUEST_MATCH:
        return ngettext(
            "%(count)d new request matching your skills",
            "%(count)d new requests matching your skills",
            count,
        ) % {"count": count}
    return f"{kind.label}: {count}"


def email_wanted(*, member: Member, kind: str) -> bool:
    if member.state == MemberState.CLOSED:
        return False  # the address is erased (a placeholder that never delivers)
    preference = EmailPreference.objects.filter(member=member, kind=kind).first()
    return preference.email if preference is not None else kind not in EMAIL_OFF_BY_DEFAULT


@durable_service
def email_preferences_set(
    *, actor: Member, choices: dict[str, bool], in_app: dict[str, bool] | None = None
) -> None:
    """Set the actor's own email choices, kind by kind, and for the kinds in IN_APP_OPTIONAL
    whether to be told in the app at all (unknown kinds are ignored)."""
    for kind, email in choices.items():
        if kind in Kind.values:
            EmailPreference.objects.update_or_create(
                member=actor, kind=kind, defaults={"email": email}
            )
    for kind, told in (in_app or {}).items():
        if kind in IN_APP_OPTIONAL:
            EmailPreference.objects.update_or_create(
                member=actor,
                kind=kind,
                defaults={"in_app": told},
                create_defaults={"in_app": told, "email": kind not in EMAIL_OFF_BY_DEFAULT},
            )


@durable_service
def email_unsubscribe(*, schema_name: str, token: str) -> Kind | None:
    """Turn off the emails of one kind for the member a one-click unsubscribe token names
    (RFC 8058: no sign-in, no CSRF token; the signature is the authority). Returns the kind
    turned off, or None for a token that is not valid in this network (`schema_name`) or
    names nobody here; repeating it changes nothing more."""
    from .unsubscribe import unsubscribe_read

    asked = unsubscribe_read(token, schema_name=schema_name)
    if asked is None or asked.kind not in Kind.values:
        return None
    member = Member.objects.filter(pk=asked.member_id).first()
    if member is None:
        return None
    EmailPreference.objects.update_or_create(
        member=member, kind=asked.kind, defaults={"email": False}
    )
    return Kind(asked.kind)


def address_bounced(*, address: str) -> bool:
    return BouncedAddress.objects.filter(address=address.strip().lower()).exists()


def bounce_record_step(*, address: str, reason: str) -> BouncedAddress:
    """Record that mail to `address` bounced (inside the caller's transaction): nothing is
    mailed to it again until the member's address changes."""
    bounce, _ = BouncedAddress.objects.update_or_create(
        address=address.strip().lower(), defaults={"reason": reason[:500]}
    )
    return bounce


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
    BouncedAddress.objects.filter(address=member.email).delete()
    PushSubscription.objects.filter(member=member).delete()


@durable_service
def push_subscription_save(
    *, actor: Member, endpoint: str, p256dh: str, auth: str
) -> PushSubscription:
    """Turn push on for the actor in one browser (its Push API subscription). Saving the same
    browser again updates its keys. Refused when push is off on this deployment, for an
    endpoint that is not a known push service's, or for keys that cannot encrypt."""
    if not push_enabled():
        raise PushRefused(_("Push notifications are not available on this server."))
    endpoint_check(endpoint)
    keys_check(p256dh=p256dh, auth=auth)
    subscription, _created = PushSubscription.objects.update_or_create(
        member=actor, endpoint=endpoint, defaults={"p256dh": p256dh, "auth": auth}
    )
    return subscription


@durable_service
def push_subscription_remove(*, actor: Member, endpoint: str) -> int:
    """Turn push off for the actor in one browser; returns how many were removed (0 or 1).
    Only the actor's own: another member's subscription to the same endpoint stays."""
    deleted, _by_model = PushSubscription.objects.filter(member=actor, endpoint=endpoint).delete()
    return deleted


def notification_push_deliver(*, notification: Notification, url: str) -> int:
    """Send `notification` to each browser its recipient turned push on in, encrypted for
    that browser; a subscription the push service says is gone (404 or 410) is removed.
    Returns how many push services accepted it. Other failures are logged and left: push
    is a nudge, the notification itself is in the app (and emailed if the member chose)."""
    data = push_payload(title=notification.title, body=notification.body, url=url)
    sent = 0
    for subscription in PushSubscription.objects.filter(member=notification.recipient_id):
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=data,
                vapid_private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY,
                vapid_claims={"sub": settings.WEBPUSH_VAPID_SUBJECT},
                ttl=settings.WEBPUSH_TTL,
                timeout=10,
            )
        except WebPushException as refused:
            status = refused.response.status_code if refused.response is not None else None
            if status in (404, 410):
                subscription.delete()
            else:
                logger.warning("push to member %s refused: %s", subscription.member_id, status)
            continue
        except requests.RequestException as failed:
            logger.warning("push to member %s failed: %s", subscription.member_id, failed)
            continue
        sent += 1
    return sent

from __future__ import annotations

from datetime import timedelta

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_tenants.utils import get_tenant_model, schema_context

from kernel import ics
from kernel.errors import TRANSIENT_ERRORS
from tenants.selectors import network_url, recipient_language

from .models import BULK_KINDS, Notification
from .services import (
    address_bounced,
    notification_push_deliver,
    notifications_daily_summaries,
    notifications_email_sweep,
)
from .unsubscribe import list_unsubscribe_headers


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=300,
)
def notification_email(self: Task, *, schema_name: str, notification_id: int) -> bool:
    """Email one pending notification, once. Returns whether an email was sent by this run.

    The row is locked while sending and marked sent in the same transaction; a delivery
    that finds it locked (a retry and the sweep's copy at once) leaves it to the one that
    holds it, so two deliveries never both send. A crash after sending and before the
    commit sends again later (at least once). Database and SMTP errors are retried with
    backoff (2, 4, 8... seconds); after the last retry the sweep queues it again.
    """
    with schema_context(schema_name), transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id, email_pending=True)
            .first()
        )
        if notification is None:
            return False
        if address_bounced(address=notification.recipient.email):
            # Mail to this address bounced: not sent again until the member changes it.
            notification.email_pending = False
            notification.save(update_fields=["email_pending"])
            return False
        network = get_tenant_model().objects.select_related("theme").get(schema_name=schema_name)
        language = translation.override(recipient_language(notification.recipient, network))
        headers = {}
        if notification.kind in BULK_KINDS:
            headers = list_unsubscribe_headers(
                base_url=network_url(network, ""),
                schema_name=schema_name,
                member_id=notification.recipient_id,
                kind=notification.kind,
            )
        context = {
            "notification": notification,
            "network": network,
            "url": network_url(network, notification.url) if notification.url else "",
            "settings_url": network_url(
                network, reverse("notifications", urlconf="hexitime.urls_tenant")
            ),
        }
        with language:
            email = EmailMessage(
                subject=f"[{network.name}] {notification.title}",
                body=render_to_string("notifications/email.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[notification.recipient.email],
                headers=headers,
            )
        if notification.calendar:
            # The method in the content type is what Outlook and Gmail read to offer
            # "add to calendar" (RFC 6047).
            method = ics.method_of(notification.calendar)
            email.attach(
                "invite.ics",
                notification.calendar,
                f"text/calendar; method={method}; charset=utf-8",
            )
        email.send()
        notification.emailed_at = timezone.now()
        notification.email_pending = False
        notification.save(update_fields=["emailed_at", "email_pending"])
        return True


@shared_task(autoretry_for=TRANSIENT_ERRORS, max_retries=3, retry_backoff=2)
def notification_push(*, schema_name: str, notification_id: int) -> int:
    """Push one notification to its recipient's browsers, in its network only. Returns how
    many push services accepted it. At most once per browser: push services are not
    retried (the notification waits in the app, and in the email the member chose)."""
    with schema_context(schema_name):
        notification = Notification.objects.filter(pk=notification_id).first()
        if notification is None:
            return 0
        # A path: the service worker opens it on the origin the member turned push on at.
        url = notification.url or reverse("notifications", urlconf="hexitime.urls_tenant")
        return notification_push_deliver(notification=notification, url=url)


@shared_task
def notifications_email_sweep_task() -> int:
    """Beat runs this in every network's schema: queue again the emails still unsent after
    the grace period (settings.OUTBOX_GRACE seconds)."""
    return notifications_email_sweep(
        grace=timedelta(seconds=settings.OUTBOX_GRACE),
        horizon=timedelta(seconds=settings.NOTIFICATION_EMAIL_HORIZON),
    )


@shared_task
def notifications_daily_summaries_task() -> int:
    """Beat runs this daily in every network's schema: one email per member who chose it,
    summarising the day's notifications of the kinds emailed daily (idempotent per day)."""
    return notifications_daily_summaries()

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPRecipientsRefused

from celery import Task, shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context

from core.notifications.models import Kind
from core.notifications.unsubscribe import list_unsubscribe_headers
from kernel.errors import TRANSIENT_ERRORS
from tenants.selectors import network_url

from .models import Delivery, Recipient
from .services import announcements_due, announcements_email_sweep


@shared_task(
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=300,
)
def announcement_email_batch(self: Task, *, schema_name: str, recipient_ids: list[int]) -> int:
    """Email each pending recipient of the batch its own message, over one connection to
    the relay. Returns how many were sent by this run.

    Each recipient is locked, sent and marked in its own transaction, so a worker that dies
    mid-batch leaves the rest pending (the sweep queues them again) and at most the one it
    was sending is sent twice. A delivery that finds a row locked or no longer pending
    leaves it. A recipient the relay refuses is marked failed with the relay's answer; an
    unreachable relay is retried with backoff, the sent ones not sent again.
    """
    sent = 0
    with schema_context(schema_name):
        network = get_tenant_model().objects.get(schema_name=schema_name)
        base_url = network_url(network, "")
        home = f"{base_url}{reverse('home', urlconf='hexitime.urls_tenant')}"
        settings_url = (
            f"{base_url}{reverse('notification-settings', urlconf='hexitime.urls_tenant')}"
        )
        with get_connection() as relay:
            for recipient_id in recipient_ids:
                with transaction.atomic():
                    recipient = (
                        Recipient.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("announcement", "member")
                        .filter(pk=recipient_id, email=Delivery.PENDING)
                        .first()
                    )
                    if recipient is None:
                        continue
                    announcement, member = recipient.announcement, recipient.member
                    email = EmailMessage(
                        subject=f"[{network.name}] {announcement.title}",
                        body=render_to_string(
                            "announcements/email.txt",
                            {
                                "announcement": announcement,
                                "member": member,
                                "network": network,
                                "home": home,
                                "settings_url": settings_url,
                            },
                        ),
                        from_email=settings.DEFAULT_FROM_EMAIL,
                        to=[member.email],
                        headers=list_unsubscribe_headers(
                            base_url=base_url,
                            schema_name=schema_name,
                            member_id=member.pk,
                            kind=Kind.ANNOUNCEMENT,
                        ),
                        connection=relay,
                    )
                    try:
                        email.send()
                    except SMTPRecipientsRefused as refused:
                        answers = [
                            f"{code} {reply.decode(errors='replace')}"
                            for code, reply in refused.recipients.values()
                        ]
                        recipient.email, recipient.reason = Delivery.FAILED, "; ".join(answers)
                    else:
                        recipient.email, recipient.reason = Delivery.SENT, ""
                        recipient.emailed_at = timezone.now()
                        sent += 1
                    recipient.address = member.email
                    recipient.save(update_fields=["email", "reason", "emailed_at", "address"])
    return sent


@shared_task
def announcements_due_task() -> int:
    """Beat runs this every minute in every network's schema: send the scheduled
    announcements whose time has come."""
    return announcements_due()


@shared_task
def announcements_email_sweep_task() -> int:
    """Beat runs this in every network's schema: queue again the announcement emails still
    pending after the grace period (settings.OUTBOX_GRACE seconds)."""
    return announcements_email_sweep(grace=timedelta(seconds=settings.OUTBOX_GRACE))

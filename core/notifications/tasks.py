from __future__ import annotations

from celery import Task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import get_tenant_model, schema_context

from hexitime.celery import app
from tenants.selectors import network_url

from .models import Notification


@app.task(bind=True, max_retries=5, default_retry_delay=30)
def notification_email(self: Task, *, schema_name: str, notification_id: int) -> bool:
    """Email one notification, once. Returns whether an email was sent by this run.

    The row is locked while sending, so two deliveries of the same message cannot both
    send; a crash after sending and before commit sends again on retry (at least once).
    """
    with schema_context(schema_name), transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        network = get_tenant_model().objects.get(schema_name=schema_name)
        context = {
            "notification": notification,
            "network": network,
            "url": network_url(network, notification.url) if notification.url else "",
            "settings_url": network_url(
                network, reverse("notifications", urlconf="hexitime.urls_tenant")
            ),
        }
        send_mail(
            subject=f"[{network.name}] {notification.title}",
            message=render_to_string("notifications/email.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[notification.recipient.email],
        )
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
        return True

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django_tenants.utils import get_tenant_model, schema_context

from hexitime.celery import app
from hexitime.errors import TRANSIENT_ERRORS
from tenants.selectors import network_url

from .models import Member, MemberState
from .services import members_unverified_purge, verification_token, verifications_sweep


@app.task(autoretry_for=TRANSIENT_ERRORS, max_retries=5, retry_backoff=2, retry_backoff_max=300)
def member_verification_email(*, schema_name: str, member_id: int) -> bool:
    """Email a verification link to a member whose email is pending; returns whether this
    run sent it. The member's row is the outbox: locked while sending and marked sent in
    the same transaction, so a retry and the sweep's copy never both send (a crash between
    the send and the commit sends again: at least once). Each email signs a fresh link;
    any unexpired link works."""
    with schema_context(schema_name), transaction.atomic():
        member = (
            Member.objects.select_for_update(skip_locked=True)
            .filter(pk=member_id, state=MemberState.UNVERIFIED, verification_pending=True)
            .first()
        )
        if member is None:
            return False
        network = get_tenant_model().objects.get(schema_name=schema_name)
        path = reverse("join-verify", kwargs={"token": verification_token(member)},
                       urlconf="hexitime.urls_tenant")  # fmt: skip
        context = {"member": member, "network": network, "url": network_url(network, path)}
        send_mail(
            subject=f"[{network.name}] Confirm your email address",
            message=render_to_string("members/email/verify.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[member.email],
        )
        member.verification_pending = False
        member.save(update_fields=["verification_pending"])
        return True


@app.task
def members_verification_sweep() -> int:
    """Beat runs this in every network's schema: queue again the verification emails
    still unsent after the grace period (settings.OUTBOX_GRACE seconds)."""
    return verifications_sweep(grace=timedelta(seconds=settings.OUTBOX_GRACE))


@app.task
def members_purge_unverified() -> int:
    """Beat runs this daily in every network's schema (retention)."""
    return members_unverified_purge()

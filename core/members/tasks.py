from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tenants.utils import get_tenant_model, schema_context

from hexitime.celery import app
from hexitime.errors import TRANSIENT_ERRORS
from tenants.selectors import network_url

from .models import Member, MemberState
from .services import members_unverified_purge, verification_token


@app.task(autoretry_for=TRANSIENT_ERRORS, max_retries=5, retry_backoff=2, retry_backoff_max=300)
def member_verification_email(*, schema_name: str, member_id: int) -> bool:
    """Email a verification link to a member who still needs one; returns whether sent.

    Each run signs a fresh link; any unexpired link works, so a repeat is harmless."""
    with schema_context(schema_name):
        member = Member.objects.filter(pk=member_id, state=MemberState.UNVERIFIED).first()
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
        return True


@app.task
def members_purge_unverified() -> int:
    """Beat runs this daily in every network's schema (retention)."""
    return members_unverified_purge()


@app.task(autoretry_for=TRANSIENT_ERRORS, max_retries=5, retry_backoff=2, retry_backoff_max=300)
def member_join_attempt_email(*, schema_name: str, member_id: int) -> bool:
    """Tell a member that someone asked to join with their address (joining answers alike
    for known and unknown addresses, so this is how the owner learns of it)."""
    with schema_context(schema_name):
        member = Member.objects.filter(pk=member_id).first()
        if member is None:
            return False
        network = get_tenant_model().objects.get(schema_name=schema_name)
        path = reverse("login", urlconf="hexitime.urls_tenant")
        context = {"member": member, "network": network, "url": network_url(network, path)}
        send_mail(
            subject=f"[{network.name}] Someone asked to join with your email address",
            message=render_to_string("members/email/join_attempt.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[member.email],
        )
        return True

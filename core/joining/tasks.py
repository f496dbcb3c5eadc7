"""Joining's tasks: the verification and invitation emails, their sweeps, and the purge
of expired invitations. Each keeps the name it had in core.members.tasks, so tasks
queued (and beat entries written) under the old name still run."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django_tenants.utils import get_tenant_model, schema_context

from core.members.models import Invitation, Member, MemberState
from kernel.errors import TRANSIENT_ERRORS
from tenants.selectors import network_language, network_url, recipient_language

from .services import (
    invitation_token,
    invitations_email_sweep,
    invitations_expired_purge,
    verification_token,
    verifications_sweep,
)


@shared_task(
    name="core.members.tasks.member_verification_email",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=300,
)
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
        network = get_tenant_model().objects.select_related("theme").get(schema_name=schema_name)
        path = reverse(
            "join-verify",
            kwargs={"token": verification_token(member)},
            urlconf="hexitime.urls_tenant",
        )
        context = {"member": member, "network": network, "url": network_url(network, path)}
        with translation.override(recipient_language(member, network)):
            subject = _("[%(network)s] Confirm your email address") % {"network": network.name}
            message = render_to_string("joining/email/verify.txt", context)
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[member.email],
        )
        member.verification_pending = False
        member.save(update_fields=["verification_pending"])
        return True


@shared_task(name="core.members.tasks.members_verification_sweep")
def members_verification_sweep() -> int:
    """Beat runs this in every network's schema: queue again the verification emails
    still unsent after the grace period (settings.OUTBOX_GRACE seconds)."""
    return verifications_sweep(grace=timedelta(seconds=settings.OUTBOX_GRACE))


@shared_task(name="core.members.tasks.invitations_email_sweep_task")
def invitations_email_sweep_task() -> int:
    """Beat runs this in every network's schema with the notifications' sweep: queue again
    invitation emails still unsent after the grace period (settings.OUTBOX_GRACE seconds)."""
    return invitations_email_sweep(grace=timedelta(seconds=settings.OUTBOX_GRACE))


@shared_task(name="core.members.tasks.invitations_purge_expired")
def invitations_purge_expired() -> int:
    """Beat runs this daily in every network's schema, with the unverified purge (retention)."""
    return invitations_expired_purge()


@shared_task(
    name="core.members.tasks.member_invitation_email",
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=300,
)
def member_invitation_email(*, schema_name: str, invitation_id: int) -> bool:
    """Email an invitation whose email is pending, with its current link, once; returns
    whether this run sent it. The row is locked while sending and marked sent in the same
    transaction (a copy that finds it locked leaves it to the holder), as for
    notifications."""
    with schema_context(schema_name), transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("invited_by")
            .filter(pk=invitation_id, email_pending=True)
            .first()
        )
        if invitation is None or invitation.expired:
            return False
        network = get_tenant_model().objects.select_related("theme").get(schema_name=schema_name)
        path = reverse(
            "join-invited",
            kwargs={"token": invitation_token(invitation)},
            urlconf="hexitime.urls_tenant",
        )
        context = {"invitation": invitation, "network": network, "url": network_url(network, path)}
        # Not a member yet: the network's language.
        with translation.override(network_language(network)):
            subject = _("[%(network)s] You are invited to join %(network)s") % {
                "network": network.name
            }
            message = render_to_string("joining/email/invitation.txt", context)
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )
        invitation.email_pending = False
        invitation.save(update_fields=["email_pending"])
        return True

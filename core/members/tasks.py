from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tenants.utils import get_tenant_model, schema_context

from hexitime.celery import app

from .models import Member


@app.task
def member_verification_email(*, schema_name: str, member_id: int) -> bool:
    """Send the verification link. Safe to repeat: the link verifies once, and a member
    who is already verified gets nothing."""
    from .services import verification_token

    with schema_context(schema_name):
        member = Member.objects.filter(pk=member_id, email_verified_at__isnull=True).first()
        if member is None:
            return False
        network = get_tenant_model().objects.get(schema_name=schema_name)
        domain = network.get_primary_domain()
        port = f":{settings.HEXITIME_PORT}" if settings.DEBUG else ""
        scheme = "http" if settings.DEBUG else "https"
        link = f"{scheme}://{domain.domain}{port}/join/verify/{verification_token(member)}/"
        send_mail(
            subject=f"[{network.name}] Confirm your email address",
            message=render_to_string(
                "members/verify_email.txt", {"member": member, "network": network, "link": link}
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[member.email],
        )
        return True

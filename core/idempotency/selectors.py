from __future__ import annotations

from django.utils import timezone

from core.members.models import Member

from .models import IdempotentResponse
from .services import KEY_KEPT_FOR


def idempotent_response_get(*, member: Member, key: str) -> IdempotentResponse | None:
    """The response kept for the member's key, unless it is older than KEY_KEPT_FOR (after
    that the key may be used again, as with Stripe's 24 hours)."""
    return IdempotentResponse.objects.filter(
        member=member, key=key, created_at__gte=timezone.now() - KEY_KEPT_FOR
    ).first()

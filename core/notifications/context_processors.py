from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django_tenants.utils import get_public_schema_name

from .selectors import notification_unread_count


def notifications(request: HttpRequest) -> dict[str, object]:
    """`unread_notifications`: counted only if a template shows it."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if (
        tenant is None
        or tenant.schema_name == get_public_schema_name()
        or user is None
        or not user.is_authenticated
    ):
        return {}
    return {
        "unread_notifications": SimpleLazyObject(lambda: notification_unread_count(member=user))
    }

from __future__ import annotations

import functools

from django.http import HttpRequest
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

    # A callable, which templates call when they use it (cached: one query a page at
    # most). A lazy object would hide the number from filters such as `pluralize`.
    @functools.cache
    def unread_notifications() -> int:
        return notification_unread_count(member=user)

    return {"unread_notifications": unread_notifications}

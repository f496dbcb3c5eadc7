from __future__ import annotations

from django.db.models import QuerySet

from core.members.models import Member

from .models import EmailPreference, Kind, Notification


def notification_list(*, member: Member) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=member)


def notification_unread_count(*, member: Member) -> int:
    return Notification.objects.filter(recipient=member, read_at__isnull=True).count()


def email_preferences(*, member: Member) -> dict[str, bool]:
    """Every kind with the member's choice (True where they have not chosen)."""
    chosen = dict(EmailPreference.objects.filter(member=member).values_list("kind", "email"))
    return {kind: chosen.get(kind, True) for kind in Kind.values}

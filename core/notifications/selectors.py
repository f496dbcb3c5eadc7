from __future__ import annotations

from django.db.models import QuerySet

from core.members.models import Member

from .models import EMAIL_OFF_BY_DEFAULT, IN_APP_OPTIONAL, EmailPreference, Kind, Notification


def notification_list(*, member: Member) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=member)


def notification_unread_count(*, member: Member) -> int:
    """Unread notifications; read from the member's own row when the request's member was
    loaded with their count (core.members.backends), else counted."""
    loaded = getattr(member, "unread_notifications", None)
    if loaded is not None:
        return int(loaded)
    return Notification.objects.filter(recipient=member, read_at__isnull=True).count()


def email_preferences(*, member: Member) -> dict[str, bool]:
    """Every kind with the member's choice (where they have not chosen: True, except for
    the kinds in EMAIL_OFF_BY_DEFAULT)."""
    chosen = dict(EmailPreference.objects.filter(member=member).values_list("kind", "email"))
    return {kind: chosen.get(kind, kind not in EMAIL_OFF_BY_DEFAULT) for kind in Kind.values}


def in_app_preferences(*, member: Member) -> dict[str, bool]:
    """Each kind the member may turn off in the app, with their choice (True if none)."""
    chosen = dict(
        EmailPreference.objects.filter(member=member, kind__in=IN_APP_OPTIONAL).values_list(
            "kind", "in_app"
        )
    )
    return {kind: chosen.get(kind, True) for kind in IN_APP_OPTIONAL}


def members_not_told(*, kind: Kind) -> QuerySet[EmailPreference]:
    """The preferences of members who turned `kind` off in the app (`.values("member")`
    for a subquery)."""
    return EmailPreference.objects.filter(kind=kind, in_app=False)

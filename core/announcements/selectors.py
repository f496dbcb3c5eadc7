"""Reads for announcements: who an audience reaches, what a member's home page shows, and
an announcement's delivery counts for its organiser."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from core.members.models import Member, MemberState
from kernel.errors import NotFound

from .models import Announcement, Audience, Delivery, Recipient, State

PERMISSION = "announcements.send_announcement"
# The most announcements the home page shows at once (the newest first).
SHOWN_LIMIT = 5


def audience_members(*, audience: str, value: str) -> QuerySet[Member]:
    """The active members an audience names now (never staff, deactivated or closed)."""
    members = Member.objects.filter(state=MemberState.ACTIVE, is_active=True, is_staff=False)
    if audience == Audience.ROLE:
        return members.filter(role=value)
    if audience == Audience.PROFESSION:
        return members.filter(profession=value)
    if audience == Audience.ORGANISATION:
        return members.filter(organisation__iexact=value)
    return members


def announcements_shown(*, member: Member) -> list[Recipient]:
    """The sent announcements the member has not dismissed, newest first, each with its
    announcement: one query (the home page's)."""
    return list(
        Recipient.objects.filter(
            member=member, dismissed_at__isnull=True, announcement__state=State.SENT
        )
        .select_related("announcement")
        .order_by("-announcement__sent_at", "-announcement_id")[:SHOWN_LIMIT]
    )


def member_announcements(*, member: Member) -> QuerySet[Recipient]:
    """Every sent announcement that reached the member, dismissed or not, newest first."""
    return (
        Recipient.objects.filter(member=member, announcement__state=State.SENT)
        .select_related("announcement")
        .order_by("-announcement__sent_at", "-announcement_id")
    )


def _counts() -> dict[str, Count]:
    return {
        f"{state}_count": Count("recipients", filter=Q(recipients__email=state))
        for state in Delivery.values
    } | {"reached_count": Count("recipients")}


def announcement_list(*, actor: Member) -> QuerySet[Announcement]:
    """Every announcement of the network with its delivery counts, for an organiser."""
    if not actor.has_perm(PERMISSION):
        raise NotFound("No such page.")
    return (
        Announcement.objects.select_related("author")
        .annotate(**_counts())
        .order_by("-created_at", "-id")
    )


def access_announcement(announcement_id: int, *, member: Member) -> Announcement:
    """One announcement with its delivery counts, for an organiser of this network; any
    other member (or an id from another network) finds nothing."""
    found = announcement_list(actor=member).filter(pk=announcement_id).first()
    if found is None:
        raise NotFound("No such announcement.")
    return found


def delivery_counts(announcement: Announcement) -> dict[str, int]:
    """How many of an announcement's recipients are in each delivery state (and `reached`
    in all), from the counts `announcement_list` and `access_announcement` annotate."""
    states = [*Delivery.values, "reached"]
    return {state: int(getattr(announcement, f"{state}_count", 0)) for state in states}

"""Reads for announcements: who an audience reaches, what a member's home page shows, and
an announcement's delivery counts for its organiser."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from core.members.models import Member, MemberState
from kernel.db import connection, instance_from_row
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


# The home's announcements: the member's sent ones not dismissed, newest first, each
# with its announcement. Written once: the ORM took 0.8 ms of CPU building and compiling
# it on every home page. The recipient's columns come in its model's order, then the
# announcement's but its id (the recipient's announcement_id), in theirs: from_db takes
# them so, and a test holds both to the models.
ANNOUNCEMENTS_SHOWN = """
SELECT recipient.id, recipient.announcement_id, recipient.member_id, recipient.email,
       recipient.address, recipient.reason, recipient.queued_at, recipient.emailed_at,
       recipient.dismissed_at,
       announcement.author_id, announcement.title, announcement.body, announcement.audience,
       announcement.audience_value, announcement.state, announcement.send_at,
       announcement.sent_at, announcement.created_at
  FROM announcements_recipient recipient
  JOIN announcements_announcement announcement ON announcement.id = recipient.announcement_id
 WHERE recipient.member_id = %(member)s AND recipient.dismissed_at IS NULL
   AND announcement.state = %(sent)s
 ORDER BY announcement.sent_at DESC, recipient.announcement_id DESC
 LIMIT %(limit)s
"""


def announcements_shown(*, member: Member) -> list[Recipient]:
    """The sent announcements the member has not dismissed, newest first (at most
    SHOWN_LIMIT), each with its announcement: one query (`ANNOUNCEMENTS_SHOWN`)."""
    own = len(Recipient._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            ANNOUNCEMENTS_SHOWN, {"member": member.pk, "sent": State.SENT, "limit": SHOWN_LIMIT}
        )
        rows = cursor.fetchall()
    shown = []
    for row in rows:
        recipient = instance_from_row(Recipient, row[:own])
        recipient.announcement = instance_from_row(
            Announcement, [recipient.announcement_id, *row[own:]]
        )
        shown.append(recipient)
    return shown


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

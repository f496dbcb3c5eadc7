from __future__ import annotations

from django.db.models import QuerySet

from .models import Member, MemberState, ProfileVisibility


def approval_queue() -> QuerySet[Member]:
    """Verified members waiting for an organiser, oldest first."""
    return Member.objects.filter(state=MemberState.AWAITING_APPROVAL).order_by("date_joined", "pk")


def member_list() -> QuerySet[Member]:
    """The network's members (never platform staff or closed accounts), by name."""
    return (
        Member.objects.filter(is_staff=False)
        .exclude(state=MemberState.CLOSED)
        .order_by("full_name", "pk")
    )


def profile_shown_in_full(*, viewer: Member, member: Member) -> bool:
    """Whether `viewer` sees all of `member`'s profile or only name, profession and
    organisation. Members always see their own; organisers see everyone's."""
    return (
        viewer.pk == member.pk
        or member.profile_visibility == ProfileVisibility.NETWORK
        or viewer.has_perm("members.approve_member")
    )

from __future__ import annotations

from django.db.models import QuerySet

from .backends import ROLE_PERMISSIONS
from .models import ApiToken, Member, MemberState, ProfileVisibility


def approval_queue() -> QuerySet[Member]:
    """Verified members waiting for an organiser, oldest first."""
    return Member.objects.filter(state=MemberState.AWAITING_APPROVAL).order_by("date_joined", "pk")


def member_api_tokens(*, member: Member) -> QuerySet[ApiToken]:
    """The member's own API tokens, newest first."""
    return ApiToken.objects.filter(member=member).order_by("-created_at", "-pk")


def members_with_permission(permission: str) -> QuerySet[Member]:
    """Active members whose role grants `permission` (by `ROLE_PERMISSIONS`), e.g. the
    organisers to tell of something waiting for them."""
    roles = [role for role, granted in ROLE_PERMISSIONS.items() if permission in granted]
    return Member.objects.filter(
        role__in=roles, state=MemberState.ACTIVE, is_active=True, is_staff=False
    ).order_by("pk")


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

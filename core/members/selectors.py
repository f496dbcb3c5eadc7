from __future__ import annotations

from django.db.models import Q, QuerySet

from .backends import ROLE_PERMISSIONS
from .models import ApiToken, Invitation, Member, MemberState, ProfileVisibility


def approval_queue() -> QuerySet[Member]:
    """Verified members waiting for an organiser, oldest first."""
    return Member.objects.filter(state=MemberState.AWAITING_APPROVAL).order_by("date_joined", "pk")


def invitation_list() -> QuerySet[Invitation]:
    """The network's invitations not yet used or withdrawn (expired ones too, to resend),
    most recently sent first."""
    return Invitation.objects.select_related("invited_by").order_by("-sent_at", "-pk")


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


def member_list(*, search: str = "") -> QuerySet[Member]:
    """The network's members (never platform staff or closed accounts), by name; with
    `search`, those whose name, email or organisation contains it (any case)."""
    members = Member.objects.filter(is_staff=False).exclude(state=MemberState.CLOSED)
    search = search.strip()
    if search:
        members = members.filter(
            Q(full_name__icontains=search)
            | Q(email__icontains=search)
            | Q(organisation__icontains=search)
        )
    return members.order_by("full_name", "pk")


def profile_shown_in_full(*, viewer: Member, member: Member) -> bool:
    """Whether `viewer` sees all of `member`'s profile or only name, profession and
    organisation. Members always see their own; organisers see everyone's."""
    return (
        viewer.pk == member.pk
        or member.profile_visibility == ProfileVisibility.NETWORK
        or viewer.has_perm("members.approve_member")
    )

from __future__ import annotations

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, When

from kernel.db import instance_from_row

from .backends import ROLE_PERMISSIONS
from .models import ApiToken, Block, Invitation, Member, MemberState, ProfileVisibility


def member_named(member_id: int, full_name: str) -> Member:
    """A member as another read shows them beside what it reads, their name alone (SQL
    written once; anything else of them is read on first use)."""
    return instance_from_row(Member, [member_id, full_name], ["id", "full_name"])


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


def blocked_member_ids(member: Member) -> set[int]:
    """The ids of the members `member` must not meet through the network: those they
    blocked and those who blocked them (a block works both ways; only the blocker knows
    of it). One query. Group sessions, responses, messages and search all ask this."""
    pairs = Block.objects.filter(Q(blocker=member) | Q(blocked=member)).values_list(
        "blocker_id", "blocked_id"
    )
    return {other for pair in pairs for other in pair} - {member.pk}


def blocked_member_ids_query(member: Member) -> QuerySet[Block, int]:
    """`blocked_member_ids` as a subquery, for `exclude(giver_id__in=...)` without a query
    of its own (group sessions keep their query count; listing search writes the same
    subquery in its SQL). It reads the member's blocks alone, by their two indexes: asking
    for the members they name scanned every member (1.3 of a suggestion read's 1.7 ms on
    the pages bench's 4,000 members)."""
    return (
        Block.objects.filter(Q(blocker=member) | Q(blocked=member))
        .annotate(other=Case(When(blocker=member, then=F("blocked_id")), default=F("blocker_id")))
        .values_list("other", flat=True)
    )


def _blocks_between(first: object, second: object) -> QuerySet[Block]:
    """The blocks either of two members (ids, or references to an outer query's fields)
    made against the other."""
    return Block.objects.filter(
        Q(blocker_id=first, blocked_id=second) | Q(blocker_id=second, blocked_id=first)
    )


def blocked_with_exists(member: Member, field: str) -> Exists:
    """Whether `member` and the member the outer query's `field` names blocked one
    another, as an expression for an annotation."""
    return Exists(_blocks_between(member.pk, OuterRef(field)))


def members_blocked_between(first: Member | int, second: Member | int) -> bool:
    """Whether either of the two members (or ids) blocked the other."""
    a = first if isinstance(first, int) else first.pk
    b = second if isinstance(second, int) else second.pk
    return _blocks_between(a, b).exists()


def member_blocks(*, member: Member) -> QuerySet[Block]:
    """The blocks `member` made (never those made against them), newest first."""
    return (
        Block.objects.filter(blocker=member)
        .select_related("blocked")
        .order_by("-created_at", "-pk")
    )


def member_has_blocked(*, member: Member, other: Member) -> bool:
    """Whether `member` blocked `other` (for the blocker's own pages only)."""
    return Block.objects.filter(blocker=member, blocked=other).exists()

from __future__ import annotations

from django.db.models import QuerySet

from .models import Member, MemberState


def approval_queue() -> QuerySet[Member]:
    """Verified members waiting for an organiser, oldest first."""
    return Member.objects.filter(state=MemberState.AWAITING_APPROVAL).order_by("date_joined", "pk")


def member_list() -> QuerySet[Member]:
    """The network's members (never platform staff), by name."""
    return Member.objects.filter(is_staff=False).order_by("full_name", "pk")

"""Reading members: the directory, one profile as another member sees it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from hexitime.errors import NotFound, PermissionDenied

from .models import OPTIONAL_PROFILE_FIELDS, Member


def member_directory(*, skill: str = "", profession: str = "") -> QuerySet[Member]:
    """Members others may find: approved ones (pending and declined people stay hidden)."""
    members = Member.objects.filter(approval=Member.Approval.APPROVED, is_active=True)
    if profession:
        members = members.filter(profession=profession)
    if skill.strip():
        members = members.filter(skills__contains=[" ".join(skill.split()).lower()])
    return members.order_by("full_name", "id")


def access_member(member_id: int, *, member: Member) -> Member:
    """A member as `member` may see them, or NotFound (the same for missing and hidden)."""
    if member_id == member.pk:
        return member
    found = member_directory().filter(pk=member_id).first()
    if found is None:
        raise NotFound("There is no such member here.")
    return found


def profile_view(*, subject: Member, viewer: Member) -> dict[str, Any]:
    """The fields of `subject`'s profile that `viewer` may see: all of them for the member
    themselves; otherwise name, profession and skills plus what the member chose to show."""
    shown = set(OPTIONAL_PROFILE_FIELDS if viewer.pk == subject.pk else subject.visible_fields)
    profile: dict[str, Any] = {
        "id": subject.pk,
        "full_name": subject.full_name,
        "profession": subject.profession,
        "profession_label": subject.get_profession_display() if subject.profession else "",
        "role": subject.role,
        "skills": subject.skills,
    }
    for name in OPTIONAL_PROFILE_FIELDS:
        if name in shown:
            value = getattr(subject, name)
            profile[name] = value.url if name == "photo" and value else value or None
    return profile


def access_member_for_organiser(member_id: int, *, actor: Member) -> Member:
    """Any member of this network (pending and declined included) for an organiser to act on.
    Others are refused before the id is looked up, so they learn nothing from it."""
    if actor.role != Member.Role.ORGANISER:
        raise PermissionDenied("Only the network's organisers can do that.")
    found = Member.objects.filter(pk=member_id).first()
    if found is None:
        raise NotFound("There is no such member here.")
    return found


def pending_members() -> QuerySet[Member]:
    return Member.objects.filter(approval=Member.Approval.PENDING).order_by("date_joined", "id")

"""Permissions that come with a member's role in their network.

Organisers moderate and manage members because of their role, not because someone
remembered to tick boxes: changing a role (audited) changes what they may do.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import BaseBackend

from .models import Member, MemberState, Role

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.MEMBER: frozenset(),
    Role.QI_LEAD: frozenset(),
    Role.ORGANISER: frozenset(
        {"listings.moderate_listing", "members.approve_member", "members.change_role"}
    ),
}


class RolePermissionBackend(BaseBackend):
    """Grants the permissions of an active member's role; authenticates nobody."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not isinstance(user_obj, Member) or not user_obj.is_active or obj is not None:
            return set()
        if user_obj.state != MemberState.ACTIVE:
            return set()
        return set(ROLE_PERMISSIONS.get(user_obj.role, frozenset()))

"""Permissions that come with a member's role in their network.

Organisers moderate and manage members because of their role, not because someone
remembered to tick boxes: changing a role (audited) changes what they may do.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Exists, Model, OuterRef, Q
from django_tenants.utils import get_public_schema_name

from core.notifications.selectors import unread_count_of_member
from kernel.db import connection

from .models import Member, MemberState, Role

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.MEMBER: frozenset(),
    Role.QI_LEAD: frozenset({"projects.propose_project"}),
    Role.ORGANISER: frozenset(
        {
            "listings.moderate_listing",
            "ledger.view_network_totals",
            "ledger.correct_transfer",
            "theming.change_theme",
            "members.approve_member",
            "members.change_role",
            "insights.view_equality_report",
            "exchanges.settle_dispute",
            "federation.change_membership",
            "exchanges.view_all_exchanges",
            "projects.propose_project",
            "projects.fund_project",
            "insights.view_network_metrics",
            "audit.view_auditevent",
            "safety.moderate_report",
            "giving.manage_pot",
            "stories.pick_story",
            "campaigns.manage_campaign",
            "announcements.send_announcement",
            "tenants.view_plan",
            "tenants.manage_billing",
            "tenants.manage_domains",
        }
    ),
}


class MemberBackend(ModelBackend):
    """Django's model backend (email and password; per-member and group permissions),
    plus the permissions of an active member's role."""

    def get_user(self, user_id: int | str) -> Member | None:
        """The member of a signed-in request, read with what every page needs of them in
        the same query: their unread notifications and whether they may hold a permission
        beyond their role (almost nobody does), so that neither costs a query of its own on
        each page (issue 14). The second asks whether they have a permission or a group of
        their own at all: a group without permissions reads as granted, and costs the
        permissions query below, which answers exactly. Asking through the permissions
        themselves would join five tables, and compiling that took as long as the rest of
        the query."""
        members = Member._default_manager.all()
        if connection.schema_name != get_public_schema_name():
            own_permissions = Member.user_permissions.through.objects.filter(member=OuterRef("pk"))
            own_groups = Member.groups.through.objects.filter(member=OuterRef("pk"))
            members = members.annotate(
                unread_notifications=unread_count_of_member(),
                has_granted_permissions=Exists(own_permissions) | Exists(own_groups),
            )
        try:
            member = members.get(pk=user_id)
        except Member.DoesNotExist:
            return None
        return member if self.user_can_authenticate(member) else None

    # user_obj is Django's any user, given Django's own private permission cache below.
    def get_all_permissions(self, user_obj: Any, obj: Model | None = None) -> set[str]:  # noqa: ANN401
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser
            and not hasattr(user_obj, "_perm_cache")
        ):
            if getattr(user_obj, "has_granted_permissions", None) is False:
                user_obj._perm_cache = set()  # read with the member (get_user)
            else:
                # Per-member and group permissions in one query, not Django's two a page.
                granted_here = Permission.objects.filter(
                    Q(user=user_obj) | Q(group__user=user_obj)
                ).values_list("content_type__app_label", "codename")
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in granted_here}
        granted = super().get_all_permissions(user_obj, obj)
        if (
            not isinstance(user_obj, Member)
            or not user_obj.is_active
            or obj is not None
            or user_obj.state != MemberState.ACTIVE
        ):
            return granted
        return granted | ROLE_PERMISSIONS.get(user_obj.role, frozenset())

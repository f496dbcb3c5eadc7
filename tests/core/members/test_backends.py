"""The member of a signed-in request is read in one query with their unread notifications
and whether anything was granted to them beyond their role (core.members.backends)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.members.backends import MemberBackend
from core.notifications.models import Kind
from core.notifications.selectors import notification_unread_count
from core.notifications.services import notification_send
from kernel.db import connection
from tests.conftest import reads

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_a_permission_granted_through_a_group_still_counts(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    member = make_member(network_a)
    with tenant_context(network_a):
        analysts = Group.objects.create(name="Analysts")
        analysts.permissions.add(Permission.objects.get(codename="view_equality_report"))
        member.groups.add(analysts)
    client_a.force_login(member)
    assert client_a.get("/insights/equality/").status_code == 200

    client_a.force_login(make_member(network_a))  # nothing granted: the role's only
    assert client_a.get("/insights/equality/").status_code in {403, 404}

    # In a group that grants nothing: read as possibly granted, then asked exactly.
    grouped = make_member(network_a)
    with tenant_context(network_a):
        grouped.groups.add(Group.objects.create(name="Readers"))
    client_a.force_login(grouped)
    assert client_a.get("/insights/equality/").status_code in {403, 404}


def test_a_permission_granted_to_the_member_directly_counts(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    member = make_member(network_a)
    with tenant_context(network_a):
        member.user_permissions.add(Permission.objects.get(codename="view_equality_report"))
    client_a.force_login(member)
    assert client_a.get("/insights/equality/").status_code == 200


def test_the_member_comes_with_their_own_unread_count_in_one_query(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice, bob = make_member(network_a), make_member(network_b)
    with tenant_context(network_a):
        for key in ("one", "two"):
            notification_send(recipient=alice, kind=Kind.RESPONSE_ACCEPTED, key=key, title=key)
    with tenant_context(network_b):
        notification_send(recipient=bob, kind=Kind.RESPONSE_ACCEPTED, key="b", title="b")

    with tenant_context(network_a), CaptureQueriesContext(connection) as captured:
        loaded = MemberBackend().get_user(alice.pk)
        assert loaded is not None
        assert notification_unread_count(member=loaded) == 2
        assert not loaded.has_perm("insights.view_equality_report")
    read = reads(captured)
    assert len(read) == 1, read
    with tenant_context(network_b):
        loaded_b = MemberBackend().get_user(bob.pk)
        assert loaded_b is not None
        assert notification_unread_count(member=loaded_b) == 1


def test_the_member_of_a_request_is_read_whole_and_only_while_they_may_sign_in(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice, closed = make_member(network_a), make_member(network_a)
    bob = make_member(network_b)
    with tenant_context(network_a):
        closed.is_active = False
        closed.save(update_fields=["is_active"])
        loaded = MemberBackend().get_user(alice.pk)
        assert loaded is not None
        assert loaded.get_deferred_fields() == set()  # every column: nothing read later
        assert (loaded.email, loaded.role, loaded.password) == (
            alice.email,
            alice.role,
            alice.password,
        )
        assert MemberBackend().get_user(closed.pk) is None
        assert MemberBackend().get_user(max(alice.pk, closed.pk, bob.pk) + 1) is None
        # B's member is read in B only: in A their id is A's member or nobody.
        in_a = MemberBackend().get_user(bob.pk)
        assert in_a is None or in_a.email != bob.email

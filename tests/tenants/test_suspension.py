"""Suspending a network blocks its pages and API and loses nothing; resuming restores it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_tenants.utils import schema_context, tenant_context

from core.audit.models import AuditEvent
from core.members.models import Member
from kernel.errors import PermissionDenied
from ledger.selectors import member_balance
from ledger.services import gift_grant
from tenants.models import Network
from tenants.services.networks import network_resume, network_suspend
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.conftest import NetworkClient


@pytest.fixture
def staff(db: None) -> Member:
    return Member.objects.create_user("staff@hexitime.example", "pw", is_staff=True)


def test_a_suspended_network_shows_a_suspended_page_and_its_api_refuses(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
    staff: Member,
) -> None:
    member = make_member(network_a, full_name="Ada")
    with tenant_context(network_a):
        gift_grant(member=member)
    client_a.force_login(member)
    client_b.force_login(make_member(network_b))
    assert client_a.get("/api/v1/ledger/balance/").status_code == 200

    network_suspend(network=network_a, actor=staff, reason="Unpaid hosting")

    page = client_a.get("/ledger/statement/")
    assert page.status_code == 503
    assert b"Network A is suspended" in page.content
    anonymous = Client(HTTP_HOST=host_of(network_a)).get("/")
    assert anonymous.status_code == 503
    api = client_a.get("/api/v1/ledger/balance/")
    assert api.status_code == 503
    assert api.json()["code"] == "network_suspended"
    with tenant_context(network_a):  # the sign-in page refuses too: nobody gets in
        assert client_a.post("/accounts/login/", {"username": member.email}).status_code == 503
    # The other network carries on.
    assert client_b.get("/ledger/statement/").status_code == 200
    assert client_b.get("/api/v1/ledger/balance/").status_code == 200

    network_resume(network=network_a, actor=staff)

    assert client_a.get("/ledger/statement/").status_code == 200
    assert client_a.get("/api/v1/ledger/balance/").json() is not None
    with tenant_context(network_a):
        assert Member.objects.get(pk=member.pk).full_name == "Ada"
        assert member_balance(member=member) == 120


def test_suspension_and_resumption_are_audited_in_the_public_schema(
    network_a: Network, staff: Member
) -> None:
    network_suspend(network=network_a, actor=staff, reason="Unpaid hosting")
    network_resume(network=network_a, actor=staff, reason="Paid")
    with schema_context("public"):
        events = list(AuditEvent.objects.order_by("id").values_list("verb", "after", "reason"))
    assert events == [
        ("network.suspend", {"status": "suspended"}, "Unpaid hosting"),
        ("network.resume", {"status": "active"}, "Paid"),
    ]
    with tenant_context(network_a):
        assert not AuditEvent.objects.exists()


def test_only_platform_staff_can_suspend(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    organiser = make_member(network_b)  # an organiser elsewhere is not platform staff
    with pytest.raises(PermissionDenied):
        network_suspend(network=network_a, actor=organiser, reason="Rival")
    assert Network.objects.get(pk=network_a.pk).status == "active"


def test_operators_suspend_and_resume_from_the_command_line(
    network_a: Network, client_a: NetworkClient
) -> None:
    call_command("tenants_suspend", "network-a", reason="Maintenance")
    assert client_a.get("/").status_code == 503
    call_command("tenants_resume", "network-a")
    assert client_a.get("/").status_code == 200
    with pytest.raises(CommandError, match="No network"):
        call_command("tenants_suspend", "nowhere", reason="x")

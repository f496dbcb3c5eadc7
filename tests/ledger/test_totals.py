"""The network's credit totals show every holder of the credit it issued (members,
project budgets, the federation position) and check that they add up."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django_tenants.utils import tenant_context

from core.members.models import Role
from core.projects.services import project_fund, project_propose
from ledger.federation.services import (
    federated_transfer_create,
    federation_membership_set,
    federation_partner_add,
)
from ledger.selectors import network_totals
from ledger.services import gift_grant
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_issued_equals_what_members_projects_and_the_federation_hold(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice = make_member(network_a, full_name="Alice")
    ben = make_member(network_b, full_name="Ben")
    olu = make_member(network_b, full_name="Olu Organiser", role=Role.ORGANISER)
    for network, member in ((network_a, alice), (network_b, ben)):
        with tenant_context(network):
            gift_grant(member=member)
    upgrade(network_a, network_b)
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=180)
    federation_partner_add(network=network_b, partner=network_a, actor=None)
    federation_partner_add(network=network_a, partner=network_b, actor=None)
    # Ben (in B) helped Alice (in A) for a quarter of an hour.
    federated_transfer_create(
        idempotency_key="exchange:1:complete",
        payer_network=network_a,
        payer_member_id=alice.pk,
        payee_network=network_b,
        payee_member_id=ben.pk,
        minutes=15,
        memo="QI coaching",
    )
    today = timezone.localdate()
    with tenant_context(network_b):
        project = project_propose(
            actor=olu,
            title="Fewer falls",
            aim="Fewer falls by March.",
            description="PDSA cycles.",
            budget_minutes=60,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
        )
        project_fund(actor=olu, project=project)
        totals = network_totals()
    assert (totals.issued, totals.held_by_members, totals.held_by_projects) == (180, 135, 60)
    assert totals.federation_position == -15
    assert totals.held == 180 and totals.balanced

    client_b.force_login(olu)
    page = client_b.get("/ledger/totals/").content.decode()
    for text in (
        "Credit issued (welcome gifts and project budgets)</dt><dd>3 hours",
        "Held by members</dt><dd>2 hours 15 minutes",
        "Held in project budgets</dt><dd>1 hour",
        "Federation position</dt><dd>\u221215 minutes",
        "Total held</dt><dd>3 hours",
        "Credit issued equals credit held",
    ):
        assert text in page, text
    api = client_b.get("/api/v1/ledger/totals/").json()
    assert (api["held_by_projects"], api["federation_position"], api["held"]) == (60, -15, 180)
    assert api["balanced"] is True

    # Network A's totals are its own: its member spent 15 minutes in B.
    with tenant_context(network_a):
        theirs = network_totals()
    assert (theirs.issued, theirs.held_by_members, theirs.federation_position) == (120, 105, 15)
    # A member of A (not even an organiser there) sees nothing of B's totals.
    client_a.force_login(alice)
    assert client_a.get("/ledger/totals/").status_code == 403

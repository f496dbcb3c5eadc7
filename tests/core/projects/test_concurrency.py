"""Two confirmations at the same moment, in real threads against the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from core.projects.models import HoursConfirmation, Project, Volunteer
from core.projects.services import project_fund, volunteer_confirm_hours, volunteer_pledge
from ledger.models import Transfer
from ledger.selectors import member_balance
from ledger.services import project_account
from tests.conftest import at_once

from .conftest import worked

if TYPE_CHECKING:
    from core.members.models import Member
    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


def _funded_with_volunteer(
    network: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    member: Member,
    budget: int,
) -> tuple[Project, Volunteer]:
    project = propose(budget_minutes=budget)
    with tenant_context(network):
        project = project_fund(actor=organiser, project=project)
        volunteer = volunteer_pledge(actor=member, project=project, pledged_minutes=60)
    return project, volunteer


def test_confirming_twice_at_the_same_moment_pays_once(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
) -> None:
    amara = make_member(network_a)
    project, volunteer = _funded_with_volunteer(network_a, lead, organiser, propose, amara, 600)

    def confirm() -> HoursConfirmation:
        return volunteer_confirm_hours(
            actor=lead,
            project=project,
            volunteer=volunteer,
            minutes=60,
            worked_on=worked(1),
            key="double-click",
        )

    results = at_once(network_a, [confirm, confirm])
    assert all(isinstance(r, HoursConfirmation) for r in results), results
    assert results[0].pk == results[1].pk
    with tenant_context(network_a):
        assert HoursConfirmation.objects.count() == 1
        assert Transfer.objects.filter(kind=Transfer.Kind.PROJECT_CREDIT).count() == 1
        assert member_balance(member=amara) == 60
        assert Volunteer.objects.get(pk=volunteer.pk).confirmed_minutes == 60
        assert project_account(project.pk).balance == 540
    call_command("ledger_audit")


def test_two_confirmations_that_together_overspend_pay_only_one(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
) -> None:
    amara = make_member(network_a)
    project, volunteer = _funded_with_volunteer(network_a, lead, organiser, propose, amara, 60)

    def confirm(key: str) -> Callable[[], HoursConfirmation]:
        return lambda: volunteer_confirm_hours(
            actor=lead,
            project=project,
            volunteer=volunteer,
            minutes=45,
            key=key,
            worked_on=worked(1 if key == "left" else 2),
        )

    results = at_once(network_a, [confirm("left"), confirm("right")])
    paid = [r for r in results if isinstance(r, HoursConfirmation)]
    refused = [r for r in results if not isinstance(r, HoursConfirmation)]
    assert len(paid) == 1, results
    assert "15 minutes of its budget left" in refused[0].message
    with tenant_context(network_a):
        assert list(HoursConfirmation.objects.values_list("key", flat=True)) == [paid[0].key]
        assert member_balance(member=amara) == 45
        assert Volunteer.objects.get(pk=volunteer.pk).confirmed_minutes == 45
        assert Project.objects.get(pk=project.pk).state == Project.State.APPROVED
    call_command("ledger_audit")

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.members.models import Member, Role
from core.projects.models import Project
from core.projects.services import project_fund, project_propose
from tenants.models import Network

FALLS = {
    "title": "Fewer falls on the frailty ward",
    "aim": "Reduce inpatient falls on ward 7B by 30% by March.",
    "description": "Weekly PDSA cycles on lying and standing blood pressure and bay nursing.",
    "skills_wanted": ["run charts", "QI methods", "falls prevention"],
}


def dates() -> dict[str, datetime.date]:
    today = timezone.localdate()
    # Running for a month already: volunteers' hours fall on days since the start.
    return {
        "starts_on": today - datetime.timedelta(days=30),
        "ends_on": today + datetime.timedelta(days=90),
    }


def worked(days_ago: int) -> datetime.date:
    """A day a volunteer gave hours, `days_ago` days before today."""
    return timezone.localdate() - datetime.timedelta(days=days_ago)


@pytest.fixture
def lead(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Lena Lead", role=Role.QI_LEAD)


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olu Organiser", role=Role.ORGANISER)


@pytest.fixture
def propose(network_a: Network, lead: Member) -> Callable[..., Project]:
    def make(budget_minutes: int = 600, **fields: Any) -> Project:
        with tenant_context(network_a):
            return project_propose(
                actor=fields.pop("actor", lead),
                budget_minutes=budget_minutes,
                **{**FALLS, **dates(), **fields},
            )

    return make


@pytest.fixture
def funded(network_a: Network, organiser: Member, propose: Callable[..., Project]) -> Project:
    with tenant_context(network_a):
        return project_fund(actor=organiser, project=propose())

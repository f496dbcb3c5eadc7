from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.projects.services import (
    project_fund,
    project_propose,
    volunteer_confirm_hours,
    volunteer_pledge,
)
from tests.core.exchanges.conftest import offer, people, to_recorded

if TYPE_CHECKING:
    from core.exchanges.models import Exchange
    from core.listings.models import Listing
    from core.members.models import Member
    from core.projects.models import HoursConfirmation
    from tenants.models import Network

__all__ = ["completed", "offer", "people"]


@pytest.fixture
def completed(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> tuple[Exchange, Exchange, HoursConfirmation]:
    """Alice gave Bob 90 minutes of QI coaching (completed: the credit moved); a second
    exchange is recorded but not yet confirmed. Alice also gave a project 2 hours, which
    its lead confirmed."""
    alice, bob, olive, _eve = people
    today = timezone.localdate()
    with tenant_context(network_a):
        done = x.exchange_confirm(actor=bob, exchange=to_recorded(offer, alice, bob))
        waiting = to_recorded(offer, alice, olive, minutes=60)
        project = project_fund(
            actor=olive,
            project=project_propose(
                actor=olive,
                title="Fewer falls",
                aim="Fewer falls by March.",
                description="PDSA cycles.",
                budget_minutes=600,
                starts_on=today - datetime.timedelta(days=30),
                ends_on=today + datetime.timedelta(days=30),
            ),
        )
        volunteer = volunteer_pledge(actor=alice, project=project, pledged_minutes=180)
        confirmation = volunteer_confirm_hours(
            actor=olive,
            project=project,
            volunteer=volunteer,
            minutes=120,
            worked_on=today - datetime.timedelta(days=3),
            key="falls-1",
        )
    return done, waiting, confirmation

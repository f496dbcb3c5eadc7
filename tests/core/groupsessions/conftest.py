from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.groupsessions import services as s
from core.members.models import Role
from ledger.services import gift_grant

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from core.groupsessions.models import GroupSession
    from core.members.models import Member
    from tenants.models import Network


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> tuple[Member, ...]:
    """Gina gives sessions in network A; Ann, Ben and Cat attend; Olive organises. Everyone
    has their two-hour welcome gift."""
    names = ["Gina Giver", "Ann Attendee", "Ben Attendee", "Cat Attendee"]
    members = [make_member(network_a, full_name=name) for name in names]
    olive = make_member(network_a, full_name="Olive Organiser", role=Role.ORGANISER)
    with tenant_context(network_a):
        for member in [*members, olive]:
            gift_grant(member=member)
    return (*members, olive)


def soon(hours: int = 48) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(hours=hours)


def post(giver: Member, **fields: Any) -> GroupSession:
    """A session in the current schema, two days ahead."""
    defaults = {
        "title": "Sepsis teaching",
        "description": "Recognising sepsis early",
        "category": "teaching",
        "format": "hybrid",
        "starts_at": soon(),
        "minutes": 60,
        "capacity": 2,
        "place": "Seminar room 2",
        "video_link": "https://meet.example.org/sepsis",
    }
    return s.session_create(actor=giver, **{**defaults, **fields})

from __future__ import annotations

from collections.abc import Callable

import pytest
from django_tenants.utils import tenant_context

from core.members.models import Member, Role
from ledger.services import gift_grant
from tenants.models import Network


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> dict[str, Member]:
    """Alice and Bob (each with the two-hour welcome gift) and an organiser in network A."""
    found = {
        "alice": make_member(network_a, full_name="Alice Ames"),
        "bob": make_member(network_a, full_name="Bob Bell"),
        "olu": make_member(network_a, full_name="Olu Organiser", role=Role.ORGANISER),
    }
    with tenant_context(network_a):
        for member in found.values():
            gift_grant(member=member)
    return found

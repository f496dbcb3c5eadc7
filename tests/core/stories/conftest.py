from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from tests.core.exchanges.conftest import offer, people, to_recorded

if TYPE_CHECKING:
    from core.exchanges.models import Exchange
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network

__all__ = ["done", "offer", "people"]


@pytest.fixture
def done(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> Exchange:
    """A completed exchange: Alice coached Bob."""
    alice, bob, *_ = people
    with tenant_context(network_a):
        return x.exchange_confirm(actor=bob, exchange=to_recorded(offer, alice, bob))

import pytest
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from tests.core.exchanges.conftest import offer, people, to_recorded

__all__ = ["done", "offer", "people"]


@pytest.fixture
def done(network_a, people, offer):
    """A completed exchange: Alice coached Bob."""
    alice, bob, *_ = people
    with tenant_context(network_a):
        return x.exchange_confirm(actor=bob, exchange=to_recorded(offer, alice, bob))

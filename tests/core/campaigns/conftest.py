from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.campaigns.services import campaign_create
from core.exchanges import services as x
from core.exchanges.models import Exchange
from core.listings.services import listing_create
from core.members.models import Member, Role
from ledger.services import gift_grant

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.campaigns.models import Campaign
    from core.listings.models import Listing
    from tenants.models import Network


def days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


def running(organiser: Member, **fields: Any) -> Campaign:
    """A campaign in the current schema that started yesterday and runs ten days."""
    defaults = {
        "title": "Green NHS month",
        "description": "Lower-carbon care",
        "starts_on": days(-1),
        "ends_on": days(10),
        "target_minutes": 600,
    }
    return campaign_create(actor=organiser, **{**defaults, **fields})


def offer(owner: Member, title: str = "Teaching on inhaler switching") -> Listing:
    return listing_create(
        actor=owner,
        kind="offer",
        title=title,
        description="Happy to help",
        category="teaching",
        format="video",
    )


def complete_on(listing: Listing, receiver: Member, *, minutes: int = 60) -> Exchange:
    """In the current schema: `receiver` responds to `listing`; the owner gives `minutes`
    and the receiver confirms."""
    exchange = x.exchange_respond(actor=receiver, listing=listing, message="Please")
    x.exchange_accept(actor=listing.owner, exchange=exchange)
    x.exchange_record_hours(
        actor=listing.owner, exchange=exchange, minutes=minutes, met_on=timezone.localdate()
    )
    return x.exchange_confirm(actor=receiver, exchange=exchange)


@pytest.fixture
def cast(network_a: Network, make_member: Callable[..., Member]) -> dict[str, Member]:
    """Network A: Olive organises; Gita gives, Rob receives (with his welcome gift)."""
    olive = make_member(network_a, full_name="Olive Organiser", role=Role.ORGANISER)
    gita = make_member(network_a, full_name="Gita Giver")
    rob = make_member(network_a, full_name="Rob Receiver")
    with tenant_context(network_a):
        for member in (olive, gita, rob):
            gift_grant(member=member)
    return {"olive": olive, "gita": gita, "rob": rob}

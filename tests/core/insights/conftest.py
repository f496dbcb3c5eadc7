"""Completed exchanges made through the exchange services, as members would make them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.models import Exchange
from core.listings.services import listing_create
from core.members.models import Member, Role
from ledger.services import gift_grant
from tenants.models import Network

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from tests.conftest import NetworkClient


def complete(
    giver: Member,
    receiver: Member,
    *,
    minutes: int = 60,
    category: str = "coaching",
    format: str = "video",
    on: datetime.datetime | None = None,
) -> Exchange:
    """In the current schema: the giver offers, the receiver responds, the hours are
    recorded and confirmed; `on` backdates the completion."""
    listing = listing_create(
        actor=giver,
        kind="offer",
        title=f"Help with {category}",
        description="Happy to help",
        category=category,
        format=format,
    )
    exchange = x.exchange_respond(actor=receiver, listing=listing, message="Please")
    x.exchange_accept(actor=giver, exchange=exchange)
    x.exchange_record_hours(
        actor=giver, exchange=exchange, minutes=minutes, met_on=timezone.localdate()
    )
    x.exchange_confirm(actor=receiver, exchange=exchange)
    if on is not None:
        Exchange.objects.filter(pk=exchange.pk).update(completed_at=on)
    return exchange


@pytest.fixture
def cast(network_a: Network, make_member: Callable[..., Member]) -> dict[str, Member]:
    """Network A: Ada (nurse, Oxford) helps Ben (doctor, Oxford) and Cy (nurse, Reading);
    Cy helps Dee, who is off the map. Olive organises and exchanges nothing."""
    people = {
        "ada": make_member(
            network_a, full_name="Ada Nurse", profession="nurse", organisation="Oxford"
        ),
        "ben": make_member(
            network_a, full_name="Ben Doctor", profession="doctor", organisation="Oxford"
        ),
        "cy": make_member(
            network_a, full_name="Cy Nurse", profession="nurse", organisation="Reading"
        ),
        "dee": make_member(
            network_a,
            full_name="Dee Hidden",
            profession="pharmacist",
            organisation="Secret Trust",
            show_on_map=False,
        ),
        "olive": make_member(network_a, full_name="Olive Organiser", role=Role.ORGANISER),
    }
    with tenant_context(network_a):
        for member in people.values():
            gift_grant(member=member)
        march = datetime.datetime(2025, 3, 15, 12, tzinfo=datetime.UTC)
        complete(people["ada"], people["ben"], minutes=60, on=march)
        complete(
            people["ada"],
            people["cy"],
            minutes=90,
            category="teaching",
            format="in_person",
            on=march + datetime.timedelta(days=31),
        )
        complete(people["cy"], people["dee"], minutes=30, on=timezone.now())
    return people


def map_prepare(network: Network, query: str = "") -> None:
    """Run the map's computation for the dates in `query` as the worker runs it when the
    page or API queue it (on commit, which a test's transaction never reaches)."""
    from urllib.parse import parse_qs

    from core.insights.selectors.map import DateRange, range_key
    from core.insights.tasks import network_map_refresh

    asked = {name: values[0] for name, values in parse_qs(query).items()}
    dates = DateRange(
        *(
            datetime.date.fromisoformat(asked[name]) if asked.get(name) else None
            for name in ("start", "end")
        )
    )
    network_map_refresh(network.schema_name, range_key(dates))


def map_get(client: NetworkClient, path: str) -> TestResponse:
    """GET a map page or the map API; when it is being prepared, prepare it as the worker
    would and GET it again."""
    response = client.get(path)
    if response.status_code == 202 or b"is being prepared" in response.content:
        map_prepare(client.network, path.partition("?")[2])
        response = client.get(path)
    return response

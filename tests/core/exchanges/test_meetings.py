"""Hours move only for meetings that have happened: after the agreed time, or, when the
two sides met without agreeing a time here, on a day that is not in the future."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.models import Exchange, State
from ledger.models import Transfer

from .conftest import soon, yesterday

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _scheduled(offer: Listing, alice: Member, bob: Member, hours: int = 48) -> Exchange:
    exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
    x.exchange_accept(actor=alice, exchange=exchange)
    proposal = x.exchange_propose(
        actor=bob, exchange=exchange, starts_at=soon(hours), place="Room 4"
    )
    return x.exchange_agree(actor=alice, exchange=exchange, proposal_id=proposal.pk)


def test_hours_wait_for_the_agreed_meeting_to_pass(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = _scheduled(offer, alice, bob)
        with pytest.raises(x.ExchangeRefused, match="cannot record the hours yet: the meeting"):
            x.exchange_record_hours(actor=alice, exchange=exchange, minutes=45)
        with pytest.raises(x.ExchangeRefused, match="cannot record the hours yet"):
            x.exchange_record_hours(actor=alice, exchange=exchange, minutes=45, met_on=yesterday())
    client_a.force_login(alice)
    page = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
    assert f"/exchanges/{exchange.pk}/record/" not in page
    assert "After the meeting on" in page
    early = client_a.post(
        f"/api/v1/exchanges/{exchange.pk}/record/", {"minutes": 45}, content_type="application/json"
    )
    assert early.status_code == 409 and "the meeting is on" in early.json()["detail"]
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert (exchange.state, exchange.minutes) == (State.SCHEDULED, None)

    with time_machine.travel(soon(49)):
        page = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
        assert f"/exchanges/{exchange.pk}/record/" in page
        assert 'name="met_on"' not in page  # the agreed meeting's day is the day they met
        other_day = timezone.localdate(exchange.meeting_at) - datetime.timedelta(days=1)
        wrong = client_a.post(
            f"/api/v1/exchanges/{exchange.pk}/record/",
            {"minutes": 45, "met_on": other_day.isoformat()},
            content_type="application/json",
        )
        assert wrong.status_code == 409 and "You agreed to meet on" in wrong.json()["detail"]
        recorded = client_a.post(
            f"/api/v1/exchanges/{exchange.pk}/record/",
            {"minutes": 45},
            content_type="application/json",
        )
        assert recorded.status_code == 200, recorded.content
        met_on = timezone.localdate(exchange.meeting_at)
        assert recorded.json()["met_on"] == met_on.isoformat()
        client_a.force_login(bob)
        confirm = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
        assert f"for when you met on <strong>{met_on:%A} {met_on.day} {met_on:%B %Y}" in confirm


def test_a_meeting_not_agreed_here_records_the_day_it_happened(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        x.exchange_accept(actor=alice, exchange=exchange)
    client_a.force_login(alice)
    assert 'name="met_on"' in client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
    api = f"/api/v1/exchanges/{exchange.pk}/record/"
    missing = client_a.post(api, {"minutes": 45}, content_type="application/json")
    assert missing.status_code == 409 and "Say which day you met" in missing.json()["detail"]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    future = client_a.post(
        api, {"minutes": 45, "met_on": tomorrow.isoformat()}, content_type="application/json"
    )
    assert future.status_code == 409 and "cannot be in the future" in future.json()["detail"]
    page = client_a.post(
        f"/exchanges/{exchange.pk}/record/", {"minutes": "45", "met_on": tomorrow.isoformat()}
    )
    assert page.status_code == 409 and b"cannot be in the future" in page.content
    with tenant_context(network_a):
        assert Exchange.objects.get(pk=exchange.pk).state == State.ACCEPTED
    last_week = timezone.localdate() - datetime.timedelta(days=7)
    done = client_a.post(
        f"/exchanges/{exchange.pk}/record/", {"minutes": "45", "met_on": last_week.isoformat()}
    )
    assert done.status_code == 302
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert (exchange.state, exchange.met_on) == (State.RECORDED, last_week)
        # A correction keeps the day.
        x.exchange_record_hours(actor=alice, exchange=exchange, minutes=60)
        exchange.refresh_from_db()
        assert (exchange.minutes, exchange.met_on) == (60, last_week)


def test_auto_confirm_pays_only_for_meetings_that_happened(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = _scheduled(offer, alice, bob, hours=24 * 10)
        with pytest.raises(x.ExchangeRefused, match="yet"):
            x.exchange_record_hours(actor=alice, exchange=exchange, minutes=45)
        with time_machine.travel(soon(24 * 8)):  # past the 7 auto-confirm days, before meeting
            assert x.exchanges_auto_confirm() == 0
        assert not Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).exists()
        with time_machine.travel(soon(24 * 11)):
            x.exchange_record_hours(actor=alice, exchange=exchange, minutes=45)
        with time_machine.travel(soon(24 * 19)):
            assert x.exchanges_auto_confirm() == 1
        exchange.refresh_from_db()
        assert exchange.state == State.COMPLETED
        assert Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).count() == 1


def test_another_networks_member_cannot_record_hours(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    make_member: Callable[..., Member],
    network_b: Network,
    client_b: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        x.exchange_accept(actor=alice, exchange=exchange)
    client_b.force_login(make_member(network_b))
    data = {"minutes": "45", "met_on": yesterday().isoformat()}
    assert client_b.post(f"/exchanges/{exchange.pk}/record/", data).status_code == 404
    assert client_b.post(f"/api/v1/exchanges/{exchange.pk}/record/", data).status_code == 404
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert (exchange.state, exchange.met_on) == (State.ACCEPTED, None)

"""Calendar invites and the private feed, read back with `icalendar`: one UID for an
event's life, SEQUENCE rising with each change, METHOD REQUEST then CANCEL; the feed
opened by its secret alone, on its own network's address only."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import icalendar
import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.groupsessions import services as s
from core.listings.services import listing_create
from core.notifications.models import Notification
from ledger.services import gift_grant
from tests.conftest import NetworkClient

from .conftest import post, soon

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from core.members.models import Member
    from tenants.models import Network


def parse(text: str | bytes) -> tuple[icalendar.Component, list[Any]]:
    calendar = icalendar.Calendar.from_ical(text)
    events = list(calendar.walk("VEVENT"))
    return calendar, events


def invites_of(member: Member) -> list[str]:
    notes = Notification.objects.filter(recipient=member).exclude(calendar="")
    return list(notes.order_by("created_at", "id").values_list("calendar", flat=True))


def test_session_invites_keep_their_uid_and_raise_sequence(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina, capacity=5)
        s.booking_create(actor=ann, session=session)
        moved_to = soon(72)
        s.session_update(
            actor=gina,
            session=session,
            title="Sepsis teaching (moved)",
            category="teaching",
            format="online",
            starts_at=moved_to,
            minutes=60,
            capacity=5,
            video_link="https://meet.example.org/moved",
        )
        s.booking_cancel(actor=ann, session=session)
        invites = invites_of(ann)
    parsed = [parse(text) for text in invites]
    methods = [str(calendar["METHOD"]) for calendar, _ in parsed]
    assert methods == ["REQUEST", "REQUEST", "CANCEL"]
    uids = {str(events[0]["UID"]) for _, events in parsed}
    assert uids == {f"groupsession-{session.pk}.{network_a.schema_name}@localhost"}
    sequences = [int(events[0]["SEQUENCE"]) for _, events in parsed]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    moved = parsed[1][1][0]
    assert str(moved["URL"]) == "https://meet.example.org/moved"
    assert "https://meet.example.org/moved" in str(moved["DESCRIPTION"])
    assert abs(moved.decoded("DTSTART") - moved_to) < datetime.timedelta(seconds=1)
    assert str(parsed[2][1][0]["STATUS"]) == "CANCELLED"


def test_agreeing_a_meeting_invites_both_sides_and_cancelling_cancels(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a, full_name="Alice Giver")
    bob = make_member(network_a, full_name="Bob Receiver")
    with tenant_context(network_a):
        for member in (alice, bob):
            gift_grant(member=member)
        offer = listing_create(
            actor=alice, kind="offer", title="QI coaching", description="PDSA", category="coaching"
        )
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Help?")
        x.exchange_accept(actor=alice, exchange=exchange)
        with pytest.raises(x.ExchangeRefused) as refused:
            x.exchange_propose(
                actor=bob,
                exchange=exchange,
                starts_at=soon(),
                place="Online",
                video_link="http://insecure.example/x",
            )
        assert refused.value.field == "video_link"
        first = x.exchange_propose(
            actor=bob,
            exchange=exchange,
            starts_at=soon(),
            place="Video call",
            video_link="https://meet.example.org/qi",
        )
        x.exchange_agree(actor=alice, exchange=exchange, proposal_id=first.pk)
        second = x.exchange_propose(
            actor=alice, exchange=exchange, starts_at=soon(50), place="Room 4"
        )
        x.exchange_agree(actor=bob, exchange=exchange, proposal_id=second.pk)
        x.exchange_cancel(actor=bob, exchange=exchange, reason="Cannot make it")
        for member in (alice, bob):
            parsed = [parse(t) for t in invites_of(member)]
            assert [str(c["METHOD"]) for c, _ in parsed] == ["REQUEST", "REQUEST", "CANCEL"]
            assert [int(e[0]["SEQUENCE"]) for _, e in parsed] == [0, 1, 2]
            assert {str(e[0]["UID"]) for _, e in parsed} == {
                f"exchange-{exchange.pk}.{network_a.schema_name}@localhost"
            }
            assert str(parsed[0][1][0]["URL"]) == "https://meet.example.org/qi"


def test_the_feed_opens_with_its_secret_only_on_its_own_network(
    network_a: Network, network_b: Network, people: tuple[Member, ...], client_a: NetworkClient
) -> None:
    gina, ann, ben, *_ = people
    with tenant_context(network_a):
        session = post(gina, capacity=5)
        s.booking_create(actor=ann, session=session)
        other = post(ben, title="Ben's own session")
    client_a.force_login(ann)
    page = client_a.post("/calendar/", {"action": "renew"})
    assert page.status_code == 200
    url = page.context["feed_url"]
    path = url.split("localhost", 1)[1].split("/", 1)[1]
    client = NetworkClient(network_a)  # not signed in
    feed = client.get(f"/{path}")
    assert feed.status_code == 200 and feed["Content-Type"] == "text/calendar; charset=utf-8"
    calendar, events = parse(feed.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    uids = {str(e["UID"]) for e in events}
    assert f"groupsession-{session.pk}.{network_a.schema_name}@localhost" in uids
    assert not any(f"groupsession-{other.pk}." in uid for uid in uids)  # only Ann's items
    # Network B's host does not know A's secret.
    assert NetworkClient(network_b).get(f"/{path}").status_code == 404
    # A new address revokes the old one; turning it off revokes everything.
    client_a.post("/calendar/", {"action": "renew"})
    assert client.get(f"/{path}").status_code == 404
    client_a.post("/calendar/", {"action": "revoke"})
    with tenant_context(network_a):
        from core.groupsessions.models import CalendarFeed

        assert not CalendarFeed.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_the_invite_after_commit(
    network_a: Network, make_member: Callable[..., Member], worker: None
) -> None:
    gina = make_member(network_a, full_name="Gina Giver")
    ann = make_member(network_a, full_name="Ann Attendee")
    with tenant_context(network_a):
        gift_grant(member=ann)
        session = post(gina, capacity=3)
        mail.outbox.clear()
        s.booking_create(actor=ann, session=session)
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(ann.email in m.to for m in mail.outbox):
        time.sleep(0.2)
    sent = next(m for m in mail.outbox if ann.email in m.to)
    ((name, content, mimetype),) = sent.attachments
    assert name == "invite.ics" and mimetype.startswith("text/calendar; method=REQUEST")
    calendar, events = parse(content)
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(events[0]["UID"]) == f"groupsession-{session.pk}.{network_a.schema_name}@localhost"

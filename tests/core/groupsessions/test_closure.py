"""Closing an account leaves the group sessions the member gives and has booked
(core.groupsessions.services.closure, called by core.privacy's member_close)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import time_machine
from django_tenants.utils import tenant_context

from core.groupsessions import services as s
from core.groupsessions.models import Booking, BookingState, CalendarFeed, SessionState
from core.members.models import MemberState
from core.notifications.models import Notification
from core.privacy.services import member_close
from ledger.models import Account, Transfer
from ledger.selectors import ledger_audit

from .conftest import post, soon

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network

PASSWORD = "correct-horse-battery"  # tests.conftest.make_member's


def test_a_leaving_giver_cancels_their_sessions_and_attendees_get_the_cancel(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina)
        s.booking_create(actor=ann, session=session)
        s.calendar_feed_renew(actor=gina)
        member_close(actor=gina, password=PASSWORD)

        session.refresh_from_db()
        assert session.state == SessionState.CANCELLED
        assert Booking.objects.get(session=session, member=ann).state == BookingState.CANCELLED
        told = Notification.objects.get(recipient=ann, key__endswith=":cancelled:" + str(ann.pk))
        assert "METHOD:CANCEL" in told.calendar
        assert "left the network" in told.body
        assert not Notification.objects.filter(recipient=gina).exists()  # erased, not told
        assert not CalendarFeed.objects.filter(member=gina).exists()


def test_a_leaving_attendee_frees_their_place_for_the_first_waiting(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, cat, _ = people
    with tenant_context(network_a):
        session = post(gina, capacity=1)
        s.booking_create(actor=ann, session=session)
        s.booking_create(actor=ben, session=session)  # waiting
        s.booking_create(actor=cat, session=session)  # waiting, after Ben
        member_close(actor=ann, password=PASSWORD)

        states = dict(Booking.objects.filter(session=session).values_list("member", "state"))
        assert states == {
            ann.pk: BookingState.CANCELLED,
            ben.pk: BookingState.BOOKED,
            cat.pk: BookingState.WAITING,
        }
        session.refresh_from_db()
        assert session.state == SessionState.OPEN


@pytest.mark.django_db(transaction=True)
def test_a_leaving_attendee_confirms_and_the_session_settles_before_their_credit_returns(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, *_ = people
    with tenant_context(network_a):
        session = post(gina, minutes=60)
        for member in (ann, ben):
            s.booking_create(actor=member, session=session)
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[ann.pk, ben.pk])
        s.attendance_confirm(actor=ben, session=session)
        member_close(actor=ann, password=PASSWORD)

        session.refresh_from_db()
        assert session.state == SessionState.SETTLED
        assert Transfer.objects.filter(idempotency_key=session.ledger_key).count() == 1
        ann_account = Account.objects.get(kind=Account.Kind.MEMBER, owner_id=ann.pk)
        assert ann_account.balance == 0  # her share paid, the rest returned to the network
        assert sum(Account.objects.values_list("balance", flat=True)) == 0
        assert ledger_audit(network_name="network-a", federation_position=0).problems == []


def test_closing_is_refused_while_a_session_they_gave_is_settling(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina)
        s.booking_create(actor=ann, session=session)
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[ann.pk])
        with pytest.raises(s.SessionRefused, match="still confirming"):
            member_close(actor=gina, password=PASSWORD)
        gina.refresh_from_db()
        session.refresh_from_db()
        assert gina.state == MemberState.ACTIVE
        assert session.state == SessionState.HELD


def test_a_member_of_another_network_closing_leaves_this_networks_sessions(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, ...],
    make_member: Callable[..., Member],
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina)
        s.booking_create(actor=ann, session=session)
    # Member ids are per network: B's first members have A's members' ids.
    for _ in range(ann.pk):
        leaver = make_member(network_b)
    with tenant_context(network_b):
        member_close(actor=leaver, password=PASSWORD)
    with tenant_context(network_a):
        session.refresh_from_db()
        assert session.state == SessionState.OPEN
        assert Booking.objects.get(session=session, member=ann).state == BookingState.BOOKED

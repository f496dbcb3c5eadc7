"""Every move of a group session, through the services, in one network."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.groupsessions import services as s
from core.groupsessions.models import Booking, BookingState, SessionState
from core.groupsessions.selectors import member_session_record
from core.notifications.models import Notification
from kernel.errors import PermissionDenied
from ledger.models import Transfer
from ledger.services import issuance_account, member_account

from .conftest import post, soon

if TYPE_CHECKING:
    from core.members.models import Member
    from tenants.models import Network


def _state(booking: Booking) -> str:
    booking.refresh_from_db()
    return booking.state


def test_booking_fills_places_then_the_waiting_list_promotes_in_turn(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, cat, _ = people
    with tenant_context(network_a):
        session = post(gina, capacity=2)
        first = s.booking_create(actor=ann, session=session)
        second = s.booking_create(actor=ben, session=session)
        third = s.booking_create(actor=cat, session=session)
        assert [first.state, second.state, third.state] == ["booked", "booked", "waiting"]
        with pytest.raises(s.SessionRefused, match="already booked"):
            s.booking_create(actor=ann, session=session)
        with pytest.raises(PermissionDenied, match="Only members attending"):
            s.booking_create(actor=gina, session=session)
        s.booking_cancel(actor=ann, session=session)
        assert (_state(first), _state(third)) == ("cancelled", "booked")
        promoted = Notification.objects.get(recipient=cat, title__startswith="A place came free")
        assert "METHOD:REQUEST" in promoted.calendar
        cancelled = Notification.objects.get(recipient=ann, title__contains="is cancelled")
        assert "METHOD:CANCEL" in cancelled.calendar
        # Booking again after cancelling: the list is full now, so Ann waits.
        assert s.booking_create(actor=ann, session=session).state == "waiting"
        # More places go to the waiting list at once.
        fields: dict[str, Any] = {
            "title": "Sepsis teaching",
            "category": "teaching",
            "format": "online",
            "starts_at": session.starts_at,
            "minutes": 60,
            "capacity": 3,
        }
        s.session_update(actor=gina, session=session, **fields)
        assert _state(first) == "booked"
        with pytest.raises(s.SessionRefused, match="keep at least 3 places"):
            s.session_update(actor=gina, session=session, **{**fields, "capacity": 2})


def test_bad_input_is_refused_by_field_and_nothing_is_written(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina = people[0]
    with tenant_context(network_a):
        cases: list[tuple[dict[str, Any], str]] = [
            ({"video_link": "http://meet.example.org/x"}, "video_link"),
            ({"video_link": "javascript:alert(1)"}, "video_link"),
            ({"minutes": 50}, "minutes"),
            ({"capacity": 0}, "capacity"),
            ({"starts_at": soon(-1)}, "starts_at"),
            ({"format": "in_person", "place": ""}, "place"),
            ({"category": "nonsense"}, "category"),
        ]
        for fields, field in cases:
            with pytest.raises(s.SessionRefused) as refused:
                post(gina, **fields)
            assert refused.value.field == field
        assert not Booking.objects.exists()
        from core.groupsessions.models import GroupSession

        assert not GroupSession.objects.exists()


def test_attend_confirm_and_settle_in_one_balanced_transfer(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, cat, _ = people
    with tenant_context(network_a):
        session = post(gina, capacity=3, minutes=90)
        for member in (ann, ben, cat):
            s.booking_create(actor=member, session=session)
        with pytest.raises(
            s.SessionRefused, match="cannot mark attendance now: the session starts"
        ):
            s.attendance_mark(actor=gina, session=session, present=[ann.pk])
        pot_before = issuance_account().balance
    with time_machine.travel(soon(49)), tenant_context(network_a):
        with pytest.raises(s.SessionRefused, match="Mark only members who booked"):
            s.attendance_mark(actor=gina, session=session, present=[ann.pk, gina.pk])
        with pytest.raises(PermissionDenied):
            s.attendance_mark(actor=ann, session=session, present=[ann.pk])
        s.attendance_mark(actor=gina, session=session, present=[ann.pk, ben.pk])
        cat_booking = Booking.objects.get(member=cat)
        assert cat_booking.state == BookingState.ABSENT  # a no-show pays nothing
        s.attendance_confirm(actor=ann, session=session)
        with pytest.raises(s.SessionRefused, match="your booking is did not attend"):
            s.attendance_confirm(actor=cat, session=session)
        session.refresh_from_db()
        assert session.state == SessionState.HELD  # Ben has not answered
        assert not Transfer.objects.filter(idempotency_key=session.ledger_key).exists()
        s.attendance_confirm(actor=ben, session=session)
        session.refresh_from_db()
        assert session.state == SessionState.SETTLED
        transfer = Transfer.objects.get(idempotency_key=session.ledger_key)
        legs = {e.account_id: e.amount for e in transfer.entries.all()}
        assert sum(legs.values()) == 0
        assert legs[member_account(gina).pk] == 90
        assert legs[member_account(ann).pk] == legs[member_account(ben).pk] == -45
        assert member_account(gina).balance == 120 + 90
        assert member_account(cat).balance == 120
        assert issuance_account().balance == pot_before  # 90 splits evenly: no remainder
        record = member_session_record(
            member=gina, start=session.starts_at.date(), end=session.starts_at.date()
        )
        assert [(r.role, r.minutes, r.title) for r in record] == [("gave", 90, "Sepsis teaching")]
        assert [
            r.role
            for r in member_session_record(
                member=ann, start=session.starts_at.date(), end=session.starts_at.date()
            )
        ] == ["received"]
        assert (
            member_session_record(
                member=cat, start=session.starts_at.date(), end=session.starts_at.date()
            )
            == []
        )


def test_a_dispute_goes_to_an_organiser_and_holds_settlement(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, _, olive = people
    with tenant_context(network_a):
        session = post(gina, capacity=2, minutes=45)
        s.booking_create(actor=ann, session=session)
        s.booking_create(actor=ben, session=session)
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[ann.pk, ben.pk])
        s.attendance_confirm(actor=ann, session=session)
        disputed = s.attendance_dispute(actor=ben, session=session, reason="I left after 5 min")
        assert Notification.objects.filter(recipient=olive, kind="dispute").exists()
        session.refresh_from_db()
        assert session.state == SessionState.HELD
        with pytest.raises(PermissionDenied):
            s.attendance_settle(actor=ann, booking=disputed, outcome="waive", note="no")
        s.attendance_settle(actor=olive, booking=disputed, outcome="waive", note="Left early")
        assert AuditEvent.objects.filter(verb="groupsession.settle.waive").count() == 1
        session.refresh_from_db()
        assert session.state == SessionState.SETTLED
        transfer = Transfer.objects.get(idempotency_key=session.ledger_key)
        legs = {e.account_id: e.amount for e in transfer.entries.all()}
        # Ann alone pays: the whole 45 minutes; Ben's charge is waived.
        assert legs == {member_account(ann).pk: -45, member_account(gina).pk: 45}


def test_an_attendee_short_of_credit_cannot_confirm_and_nothing_moves(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina, capacity=1, minutes=180)  # three hours; Ann has two
        s.booking_create(actor=ann, session=session)
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[ann.pk])
        with pytest.raises(s.SessionRefused, match="your share is 3 hours"):
            s.attendance_confirm(actor=ann, session=session)
        assert Booking.objects.get(member=ann).state == BookingState.ATTENDED
        assert member_account(ann).balance == 120
        assert not Transfer.objects.filter(idempotency_key=session.ledger_key).exists()


def test_the_giver_cancels_everyone_is_told_and_calendars_get_cancel(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, cat, _ = people
    with tenant_context(network_a):
        session = post(gina, capacity=2)
        for member in (ann, ben, cat):
            s.booking_create(actor=member, session=session)
        sequence = session.__class__.objects.get(pk=session.pk).sequence
        s.session_cancel(actor=gina, session=session, reason="Ward too busy")
        session.refresh_from_db()
        assert session.state == SessionState.CANCELLED and session.sequence == sequence + 1
        assert set(Booking.objects.values_list("state", flat=True)) == {"cancelled"}
        for member in (ann, ben, gina):
            note = Notification.objects.get(recipient=member, title__startswith="Cancelled")
            assert "METHOD:CANCEL" in note.calendar and f"SEQUENCE:{sequence + 1}" in note.calendar
        waiting = Notification.objects.get(recipient=cat, title__startswith="Cancelled")
        assert waiting.calendar == ""  # on the list, never invited
        with pytest.raises(s.SessionRefused, match="this session is cancelled"):
            s.booking_create(actor=ann, session=session)


def test_nobody_came_settles_with_nothing_moved(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina)
        s.booking_create(actor=ann, session=session)
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[])
        session.refresh_from_db()
        assert session.state == SessionState.SETTLED
        assert not Transfer.objects.filter(idempotency_key=session.ledger_key).exists()


def test_beat_auto_confirms_reminds_and_settles(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, _, _ = people
    with tenant_context(network_a):
        session = post(gina, capacity=2, minutes=60, starts_at=soon(20))
        s.booking_create(actor=ann, session=session)
        s.booking_create(actor=ben, session=session)
        assert s.sessions_remind() == 1 and s.sessions_remind() == 0
        assert Notification.objects.filter(kind="meeting_reminder").count() == 3
    with time_machine.travel(soon(21)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[ann.pk, ben.pk])
        s.attendance_confirm(actor=ann, session=session)
        assert s.sessions_auto_confirm() == 0  # not yet the network's 7 days
    with time_machine.travel(soon(21 + 8 * 24)), tenant_context(network_a):
        assert s.sessions_auto_confirm() == 1
        session.refresh_from_db()
        assert session.state == SessionState.SETTLED
        assert member_account(gina).balance == 180

"""Group sessions and credit gifts in the CPD record: a session given or attended is an
entry with its hours; a gift is listed as "gift" and never adds hours. A settled session
is also something its giver and attendees may write a story about."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.cpd.selectors import cpd_entries, cpd_totals
from core.giving.services import gift_give
from core.groupsessions import services as s
from core.stories.services import story_write
from kernel.errors import NotFound
from ledger.services import gift_grant
from tests.core.groupsessions.conftest import post, soon

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network


def test_sessions_and_gifts_in_the_record(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    gina, ann, ben, cat = (
        make_member(network_a, full_name=n) for n in ("Gina", "Ann", "Ben", "Cat")
    )
    outsider = make_member(network_b, full_name="Bea of B")
    with tenant_context(network_a):
        for member in (gina, ann, ben):
            gift_grant(member=member)
        session = post(gina, minutes=60, capacity=2, format="online")
        s.booking_create(actor=ann, session=session)
        s.booking_create(actor=ben, session=session)
        held_on = timezone.localdate(session.starts_at)
    with time_machine.travel(soon(49)), tenant_context(network_a):
        s.attendance_mark(actor=gina, session=session, present=[ann.pk, ben.pk])
        s.attendance_confirm(actor=ann, session=session)
        s.attendance_confirm(actor=ben, session=session)
        gift = gift_give(actor=ann, recipient=ben, minutes=30, message="For the coffee", key="k1")
        given = cpd_entries(member=gina)
        attended = cpd_entries(member=ann)
        totals = cpd_totals([e.row() for e in attended], scheme="nmc")
        story = story_write(
            actor=ann,
            source="session",
            source_id=session.pk,
            text="We now teach sepsis screening at handover.",
            consent=True,
            show_name=True,
        )
        assert story.subject == "Sepsis teaching"
        with pytest.raises(NotFound):  # Cat was not there
            story_write(
                actor=cat,
                source="session",
                source_id=session.pk,
                text="I heard.",
                consent=True,
                show_name=True,
            )
    assert [
        (e.entry.source, e.entry.source_id, e.entry.role, e.entry.minutes, e.entry.on)
        for e in given
    ] == [("session", session.pk, "gave", 60, held_on)]
    assert given[0].entry.format == "virtual" and given[0].entry.participatory
    by_source = {e.entry.source: e.entry for e in attended}
    assert by_source["session"].role == "received" and by_source["session"].minutes == 60
    assert (by_source["gift"].source_id, by_source["gift"].role) == (gift.pk, "gift")
    assert by_source["gift"].counts is False and "Ben" in by_source["gift"].topic
    # The gift is listed, never hours: only the session's hour counts.
    assert totals.minutes == 60
    with tenant_context(network_b):  # B's member has no record of A's session or gift
        assert cpd_entries(member=outsider) == []

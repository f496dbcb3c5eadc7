"""The credit rule never creates or destroys credit: for any session length and any
number of paying attendees the legs sum to zero, the giver earns the length, each
attendee pays the same share, and the rounding left for the network is under a minute
each. Then real sessions, settled through the services, leave every balance adding up."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest
import time_machine
from django_tenants.utils import tenant_context
from hypothesis import given
from hypothesis import strategies as st

from core.groupsessions import services as s
from core.groupsessions.models import MAX_CAPACITY, MAX_MINUTES, MINUTES_STEP
from core.members.models import Role
from ledger.models import Account
from ledger.selectors import ledger_audit
from ledger.services import gift_grant

from .conftest import post, soon

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network


@given(
    minutes=st.integers(1, MAX_MINUTES // MINUTES_STEP).map(lambda n: n * MINUTES_STEP),
    attendees=st.integers(1, MAX_CAPACITY),
)
def test_the_split_balances_for_any_session(minutes: int, attendees: int) -> None:
    rule = s.split(minutes, attendees)
    assert rule.giver == minutes
    assert attendees * rule.share == rule.giver + rule.remainder  # the legs sum to zero
    assert 0 <= rule.remainder < attendees
    assert rule.share * attendees >= minutes > (rule.share - 1) * attendees


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("seed", [1, 2])
def test_settled_sessions_keep_the_ledger_whole(
    seed: int, network_a: Network, make_member: Callable[..., Member]
) -> None:
    """Random sessions (lengths, who books, who attends, who confirms or disputes and how
    an organiser settles) run through the services with real commits; after each the
    network's balances sum to zero, none is below its floor, and the ledger audit (every
    cached balance equals its entries, every transfer balances) finds nothing."""
    rng = random.Random(seed)
    people = [make_member(network_a, full_name=f"Person {i}") for i in range(6)]
    olive = make_member(network_a, full_name="Olive", role=Role.ORGANISER)
    with tenant_context(network_a):
        for member in people:
            gift_grant(member=member)
    for round_ in range(4):
        giver, *others = rng.sample(people, len(people))
        booked = rng.sample(others, rng.randint(0, len(others)))
        present = [m for m in booked if rng.random() < 0.7]
        with tenant_context(network_a):
            session = post(
                giver,
                minutes=rng.choice([15, 45, 60, 75, 135]),
                capacity=max(len(booked), 1),
                title=f"Round {round_}",
            )
            for member in booked:
                s.booking_create(actor=member, session=session)
        with time_machine.travel(soon(49 + round_)), tenant_context(network_a):
            s.attendance_mark(actor=giver, session=session, present=[m.pk for m in present])
            for member in present:
                try:
                    if rng.random() < 0.7:
                        s.attendance_confirm(actor=member, session=session)
                    else:
                        booking = s.attendance_dispute(
                            actor=member, session=session, reason="Not the whole time"
                        )
                        outcome = rng.choice(["confirm", "waive", "absent"])
                        s.attendance_settle(
                            actor=olive, booking=booking, outcome=outcome, note="Agreed with both"
                        )
                except s.SessionRefused:
                    pass  # short of credit: the attendance waits for auto-confirmation
            s.sessions_auto_confirm(now=soon(49 + 24 * 30))
            assert sum(Account.objects.values_list("balance", flat=True)) == 0
            for account in Account.objects.filter(kind="member"):
                assert account.balance >= (account.floor or 0)
    with tenant_context(network_a):
        assert ledger_audit(network_name="network-a", federation_position=0).problems == []

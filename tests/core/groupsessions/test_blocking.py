"""Members who blocked each other book none of each other's sessions: the session is not
there for them, in the list, on its page and in the booking service, worded as for any
session that is not there. A booking made before the block stays reachable."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.groupsessions import services as s
from core.groupsessions.selectors import access_session, sessions_upcoming
from core.members.services import member_block
from kernel.errors import NotFound
from tests.conftest import NetworkClient

from .conftest import post

if TYPE_CHECKING:
    from core.members.models import Member
    from tenants.models import Network


def test_blocked_members_cannot_find_or_book_each_others_sessions(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, ben, _cat, _olive = people
    with tenant_context(network_a):
        session = post(gina, capacity=3)
        s.booking_create(actor=ben, session=session)  # booked before the block
        member_block(actor=gina, member=ann)
        member_block(actor=ben, member=gina)
        assert session.pk not in [x.pk for x in sessions_upcoming(member=ann)]
        with pytest.raises(NotFound, match="No such session"):
            access_session(session.pk, member=ann)
        with pytest.raises(NotFound, match="No such session"):
            s.booking_create(actor=ann, session=session)
        # Ben's earlier booking stays his to see (and cancel), but he cannot book again.
        assert access_session(session.pk, member=ben).pk == session.pk
        s.booking_cancel(actor=ben, session=session)
        with pytest.raises(NotFound, match="No such session"):
            s.booking_create(actor=ben, session=session)
        assert session.pk in [x.pk for x in sessions_upcoming(member=gina)]


def test_the_api_answers_not_found_to_a_blocked_member(
    network_a: Network, people: tuple[Member, ...]
) -> None:
    gina, ann, *_ = people
    with tenant_context(network_a):
        session = post(gina)
        member_block(actor=ann, member=gina)
    client = NetworkClient(network_a)
    client.force_login(ann)
    assert client.get(f"/api/v1/sessions/{session.pk}/").status_code == 404
    assert client.post(f"/api/v1/sessions/{session.pk}/book/").status_code == 404

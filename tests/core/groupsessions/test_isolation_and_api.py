"""The API and pages: the same moves as the services; a member of network B can neither
see nor book nor change network A's sessions; two bookings for the last place at once."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import pytest
import time_machine
from django_tenants.utils import tenant_context

from core.groupsessions import services as s
from core.groupsessions.models import Booking, GroupSession
from ledger.services import gift_grant
from tests.conftest import NetworkClient, at_once

from .conftest import post, soon

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import DjangoAssertNumQueries

    from core.members.models import Member
    from tenants.models import Network

JSON = "application/json"


def test_api_posts_books_marks_and_confirms(
    network_a: Network,
    people: tuple[Member, ...],
    client_a: NetworkClient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    gina, ann, ben, cat, _ = people
    client_a.force_login(gina)
    made = client_a.post(
        "/api/v1/sessions/",
        {
            "title": "QI masterclass",
            "category": "qi_methods",
            "format": "online",
            "starts_at": soon().isoformat(),
            "minutes": 60,
            "capacity": 2,
            "video_link": "https://meet.example.org/qi",
        },
        content_type=JSON,
    )
    assert made.status_code == 201, made.content
    session_id = made.json()["id"]
    bad = client_a.post(
        "/api/v1/sessions/",
        {
            "title": "x",
            "category": "qi_methods",
            "format": "online",
            "starts_at": soon().isoformat(),
            "minutes": 60,
            "capacity": 2,
            "video_link": "ftp://x.example",
        },
        content_type=JSON,
    )
    assert bad.status_code == 409 and "https://" in bad.json()["detail"]
    for member in (ann, ben, cat):
        client_a.force_login(member)
        booked = client_a.post(f"/api/v1/sessions/{session_id}/book/", content_type=JSON)
        assert booked.status_code == 200, booked.content
    assert booked.json()["your_booking"] == "waiting"
    with tenant_context(network_a):
        for hours in (60, 70, 80):  # more sessions cost no more queries
            post(gina, starts_at=soon(hours))
    with django_assert_max_num_queries(12):
        listing = client_a.get("/api/v1/sessions/")
    results = listing.json()["results"]
    assert len(results) == 4 and results[0]["booked"] == 2
    assert [r["your_booking"] for r in results] == ["waiting", None, None, None]
    with time_machine.travel(soon(49)):
        client_a.force_login(gina)
        marked = client_a.post(
            f"/api/v1/sessions/{session_id}/mark/", {"present": [ann.pk, ben.pk]}, content_type=JSON
        )
        assert marked.status_code == 200, marked.content
        for member in (ann, ben):
            client_a.force_login(member)
            done = client_a.post(f"/api/v1/sessions/{session_id}/confirm/", content_type=JSON)
            assert done.status_code == 200, done.content
        assert done.json()["state"] == "settled"


def test_network_b_cannot_see_book_or_change_network_a_sessions(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, ...],
    make_member: Callable[..., Member],
) -> None:
    gina = people[0]
    with tenant_context(network_a):
        session = post(gina)
    intruder = make_member(network_b, full_name="Ivy Intruder")
    with tenant_context(network_b):
        gift_grant(member=intruder)
    client_b = NetworkClient(network_b)
    client_b.force_login(intruder)
    assert client_b.get(f"/api/v1/sessions/{session.pk}/").status_code == 404
    assert (
        client_b.post(f"/api/v1/sessions/{session.pk}/book/", content_type=JSON).status_code == 404
    )
    assert (
        client_b.post(f"/api/v1/sessions/{session.pk}/cancel/", content_type=JSON).status_code
        == 404
    )
    assert client_b.get(f"/sessions/{session.pk}/").status_code == 404
    assert client_b.get(f"/sessions/{session.pk}/invite.ics").status_code == 404
    assert session.title not in client_b.get("/sessions/").content.decode()
    assert client_b.get("/api/v1/sessions/").json()["results"] == []
    # B's member on A's host is not signed in there.
    client_a = NetworkClient(network_a)
    client_a.cookies = client_b.cookies
    assert client_a.post(f"/api/v1/sessions/{session.pk}/book/", content_type=JSON).status_code in (
        401,
        403,
    )
    with tenant_context(network_a):
        assert not Booking.objects.exists()
        assert GroupSession.objects.get().state == "open"


def test_pages_post_book_and_show_the_invite(
    network_a: Network, people: tuple[Member, ...], client_a: NetworkClient
) -> None:
    gina, ann, *_ = people
    client_a.force_login(gina)
    page = client_a.post(
        "/sessions/new/",
        {
            "title": "Teaching on sepsis",
            "category": "teaching",
            "format": "in_person",
            "starts_at": soon().strftime("%Y-%m-%dT%H:%M"),
            "minutes": "60",
            "capacity": "1",
            "place": "Seminar room",
        },
    )
    assert page.status_code == 302, page.content.decode()[:2000]
    session_id = int(page["Location"].rstrip("/").rsplit("/", 1)[1])
    missing = client_a.post("/sessions/new/", {"title": "", "category": "teaching"})
    assert missing.status_code == 400
    client_a.force_login(ann)
    assert "Book a place" in client_a.get(f"/sessions/{session_id}/").content.decode()
    client_a.post(f"/sessions/{session_id}/book/")
    detail = client_a.get(f"/sessions/{session_id}/").content.decode()
    assert "Booked" in detail and f"/sessions/{session_id}/invite.ics" in detail
    invite = client_a.get(f"/sessions/{session_id}/invite.ics")
    assert invite["Content-Type"] == "text/calendar; charset=utf-8"
    assert b"METHOD:REQUEST" in invite.content
    home = client_a.get("/").content.decode()
    assert "Teaching on sepsis" in home and "/calendar/" in home


@pytest.mark.django_db(transaction=True)
def test_two_bookings_for_the_last_place_at_once(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    """Real threads, real connections: one takes the place, the other waits in the list."""
    gina = make_member(network_a, full_name="Gina Giver")
    rivals = [make_member(network_a, full_name=f"Rival {i}") for i in range(2)]
    with tenant_context(network_a):
        session = post(gina, capacity=1)
    results = at_once(
        network_a, [partial(s.booking_create, actor=m, session=session) for m in rivals]
    )
    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    assert sorted(booking.state for booking in results) == ["booked", "waiting"]
    with tenant_context(network_a):
        assert Booking.objects.filter(state="booked").count() == 1

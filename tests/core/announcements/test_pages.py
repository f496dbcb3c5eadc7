"""Announcement pages and API: organisers write, preview, send, schedule, cancel and read
delivery; members see them on the home page and dismiss them (htmx or a plain post)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.announcements.models import Announcement, Recipient, State
from core.members.models import Profession, Role

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

JSON = "application/json"


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> tuple[Member, Member, Member]:
    organiser = make_member(network_a, role=Role.ORGANISER)
    nurse = make_member(network_a, profession=Profession.NURSE)
    doctor = make_member(network_a, profession=Profession.DOCTOR)
    return organiser, nurse, doctor


def test_an_organiser_writes_previews_and_sends_and_members_dismiss_it(
    client_a: NetworkClient,
    network_a: Network,
    people: tuple[Member, Member, Member],
    make_member: Callable[..., Member],
) -> None:
    organiser, nurse, doctor = people
    client_a.force_login(organiser)
    assert client_a.get("/announcements/organiser/").status_code == 200
    made = client_a.post(
        "/announcements/organiser/new/",
        {
            "title": "Nurses' forum",
            "body": "Thursday at 4pm, room 2.",
            "audience": "profession",
            "profession": "nurse",
        },
    )
    assert made.status_code == 302
    detail = made["Location"]
    preview = client_a.get(detail)
    assert b"Members it reaches now" in preview.content
    assert b"Thursday at 4pm, room 2." in preview.content
    with tenant_context(network_a):
        assert Announcement.objects.get().state == State.DRAFT
    assert client_a.post(detail, {"send_at": ""}).status_code == 302
    sent = client_a.get(detail)
    assert b"It reached 1 member." in sent.content
    assert b'id="delivery-counts"' in sent.content

    client_a.force_login(nurse)
    home = client_a.get("/")
    assert b"Nurses&#x27; forum" in home.content
    with tenant_context(network_a):
        pk = Announcement.objects.get().pk
    dismissed = client_a.post(f"/announcements/{pk}/dismiss/", HTTP_HX_REQUEST="true")
    assert (dismissed.status_code, dismissed.content) == (200, b"")
    assert b"Nurses&#x27; forum" not in client_a.get("/").content

    client_a.force_login(doctor)
    assert b"Nurses&#x27; forum" not in client_a.get("/").content
    assert client_a.post(f"/announcements/{pk}/dismiss/").status_code == 302  # without JS


def test_bad_input_gets_the_form_back_with_errors_not_a_500(
    client_a: NetworkClient, people: tuple[Member, Member, Member], network_a: Network
) -> None:
    client_a.force_login(people[0])
    page = client_a.post(
        "/announcements/organiser/new/",
        {
            "title": "A title",
            "body": "Text",
            "audience": "organisation",
            "organisation": "",
        },
    )
    assert page.status_code == 400
    assert b"Choose the role, profession or organisation it is for." in page.content
    page = client_a.post("/announcements/organiser/new/", {"title": "", "body": ""})
    assert page.status_code == 400
    with tenant_context(network_a):
        assert not Announcement.objects.exists()


def test_scheduling_and_cancelling_from_the_page(
    client_a: NetworkClient, people: tuple[Member, Member, Member], network_a: Network
) -> None:
    client_a.force_login(people[0])
    made = client_a.post(
        "/announcements/organiser/new/", {"title": "Later", "body": "Text", "audience": "all"}
    )
    detail = made["Location"]
    assert client_a.post(detail, {"send_at": "2999-01-01T09:00"}).status_code == 400
    assert b"within a year" in client_a.post(detail, {"send_at": "2999-01-01T09:00"}).content
    assert client_a.post(detail, {"send_at": "not a time"}).status_code == 400
    with tenant_context(network_a):
        pk = Announcement.objects.get().pk
        assert Announcement.objects.get(pk=pk).state == State.DRAFT
    soon = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert client_a.post(detail, {"send_at": soon}).status_code == 302
    with tenant_context(network_a):
        assert Announcement.objects.get(pk=pk).state == State.SCHEDULED
        assert not Recipient.objects.exists()
    assert client_a.post(f"/announcements/organiser/{pk}/cancel/").status_code == 302
    with tenant_context(network_a):
        assert Announcement.objects.get(pk=pk).state == State.CANCELLED


def test_members_never_reach_the_organiser_pages(
    client_a: NetworkClient, people: tuple[Member, Member, Member], network_a: Network
) -> None:
    organiser, nurse, _ = people
    client_a.force_login(organiser)
    detail = client_a.post(
        "/announcements/organiser/new/", {"title": "T", "body": "B", "audience": "all"}
    )["Location"]
    client_a.force_login(nurse)
    assert client_a.get("/announcements/organiser/").status_code == 404
    assert client_a.get("/announcements/organiser/new/").status_code == 404
    assert client_a.get(detail).status_code == 404
    assert client_a.post(detail, {"send_at": ""}).status_code == 404


def test_the_api_for_organisers_and_members(
    client_a: NetworkClient, people: tuple[Member, Member, Member], network_a: Network
) -> None:
    organiser, nurse, doctor = people
    client_a.force_login(organiser)
    made = client_a.post(
        "/api/v1/announcements/organiser/",
        {
            "title": "Rota change",
            "body": "From Monday.",
            "audience": "profession",
            "audience_value": "nurse",
        },
        content_type=JSON,
    )
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert made.json()["state"] == "draft"
    bad = client_a.post(
        "/api/v1/announcements/organiser/",
        {"title": "x", "body": "y", "audience": "profession", "audience_value": "pilot"},
        content_type=JSON,
    )
    assert bad.status_code == 400
    sent = client_a.post(f"/api/v1/announcements/organiser/{pk}/send/", {}, content_type=JSON)
    assert sent.status_code == 200, sent.content
    assert sent.json()["state"] == "sent"
    assert sent.json()["delivery"]["reached"] == 1
    assert sent.json()["delivery"]["pending"] == 1
    listed = client_a.get("/api/v1/announcements/organiser/").json()["results"]
    assert [a["id"] for a in listed] == [pk]
    again = client_a.post(f"/api/v1/announcements/organiser/{pk}/cancel/", content_type=JSON)
    assert again.status_code == 400  # already sent

    client_a.force_login(nurse)
    assert client_a.get("/api/v1/announcements/organiser/").status_code == 404
    assert (
        client_a.post(
            "/api/v1/announcements/organiser/", {"title": "t", "body": "b"}, content_type=JSON
        ).status_code
        == 403
    )
    mine = client_a.get("/api/v1/announcements/").json()["results"]
    assert [(a["id"], a["dismissed"]) for a in mine] == [(pk, False)]
    assert client_a.post(f"/api/v1/announcements/{pk}/dismiss/").status_code == 204
    assert client_a.post(f"/api/v1/announcements/{pk}/dismiss/").status_code == 204
    assert client_a.get("/api/v1/announcements/").json()["results"][0]["dismissed"] is True

    client_a.force_login(doctor)
    assert client_a.get("/api/v1/announcements/").json()["results"] == []
    assert client_a.post(f"/api/v1/announcements/{pk}/dismiss/").status_code == 404


def test_bs_organiser_and_members_reach_nothing_of_as(
    client_a: NetworkClient,
    client_b: NetworkClient,
    people: tuple[Member, Member, Member],
    network_b: Network,
    make_member: Callable[..., Member],
) -> None:
    client_a.force_login(people[0])
    made = client_a.post(
        "/api/v1/announcements/organiser/",
        {"title": "For A", "body": "Only A.", "audience": "all"},
        content_type=JSON,
    )
    client_a.post(
        "/api/v1/announcements/organiser/",
        {"title": "For A too", "body": "Only A.", "audience": "all"},
        content_type=JSON,
    )
    second = made.json()["id"] + 1
    client_a.post(f"/api/v1/announcements/organiser/{second}/send/", {}, content_type=JSON)
    client_b.force_login(make_member(network_b, role=Role.ORGANISER))
    assert client_b.get(f"/announcements/organiser/{second}/").status_code == 404
    assert client_b.get(f"/api/v1/announcements/organiser/{second}/").status_code == 404
    assert (
        client_b.post(
            f"/api/v1/announcements/organiser/{second}/send/", {}, content_type=JSON
        ).status_code
        == 404
    )
    assert client_b.get("/api/v1/announcements/organiser/").json()["results"] == []
    client_b.force_login(make_member(network_b))
    assert b"For A" not in client_b.get("/").content
    assert client_b.get("/api/v1/announcements/").json()["results"] == []
    assert client_b.post(f"/api/v1/announcements/{second}/dismiss/").status_code == 404

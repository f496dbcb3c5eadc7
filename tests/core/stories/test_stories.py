"""Stories: written by either side of a completed exchange, published only with consent
and an organiser's pick, withdrawn from everywhere, and invisible to other networks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.notifications.models import Notification
from core.stories.models import Story
from core.stories.services import StoryRefused, story_pick, story_write
from kernel.errors import NotFound
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.exchanges.models import Exchange
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

TEXT = "Our ward now runs a weekly huddle on falls; two fewer falls this month."


def test_only_a_side_of_a_completed_exchange_writes_a_story(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    done: Exchange,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        with pytest.raises(NotFound):
            story_write(
                actor=eve,
                source="exchange",
                source_id=done.pk,
                text=TEXT,
                consent=True,
                show_name=True,
            )
        from tests.core.exchanges.conftest import to_recorded

        waiting = to_recorded(offer, alice, olive)
        with pytest.raises(NotFound):  # not completed yet
            story_write(
                actor=olive,
                source="exchange",
                source_id=waiting.pk,
                text=TEXT,
                consent=True,
                show_name=True,
            )
        with pytest.raises(StoryRefused):
            story_write(
                actor=bob,
                source="exchange",
                source_id=done.pk,
                text="  ",
                consent=True,
                show_name=True,
            )
        for author in (alice, bob):
            story_write(
                actor=author,
                source="exchange",
                source_id=done.pk,
                text=TEXT,
                consent=False,
                show_name=False,
            )
        assert Story.objects.count() == 2


def test_consent_pick_and_withdraw_through_the_pages(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    done: Exchange,
    client_a: NetworkClient,
) -> None:
    _alice, bob, olive, _eve = people
    client_a.force_login(bob)
    detail = client_a.get(f"/exchanges/{done.pk}/")
    assert f"/stories/new/exchange/{done.pk}/".encode() in detail.content
    assert f"/cpd/entries/exchange/{done.pk}/".encode() in detail.content
    written = client_a.post(f"/stories/new/exchange/{done.pk}/", {"text": TEXT, "consent": "on"})
    assert written.status_code == 302
    with tenant_context(network_a):
        story = Story.objects.get()
    # Members may not pick.
    assert client_a.get("/stories/organiser/").status_code == 403
    assert (
        client_a.post(f"/stories/{story.pk}/pick/", {f"s{story.pk}-on_home": "on"}).status_code
        == 403
    )

    client_a.force_login(olive)
    assert TEXT.encode() in client_a.get("/stories/organiser/").content
    client_a.post(
        f"/stories/{story.pk}/pick/", {f"s{story.pk}-on_home": "on", f"s{story.pk}-on_impact": "on"}
    )
    with tenant_context(network_a):
        assert AuditEvent.objects.filter(verb="story.pick", target_id=str(story.pk)).count() == 1
        assert Notification.objects.filter(recipient=bob, kind="story_picked").count() == 1
    impact = client_a.get("/insights/impact/")
    assert TEXT.encode() in impact.content and bob.full_name.encode() not in impact.content
    visitor = Client(HTTP_HOST=host_of(network_a))
    home = visitor.get("/")
    assert TEXT.encode() in home.content and bob.full_name.encode() not in home.content
    assert visitor.get("/api/v1/stories/published/").json() == [
        {"subject": "QI coaching", "text": TEXT, "byline": ""}
    ]

    client_a.force_login(bob)
    client_a.post(
        f"/stories/new/exchange/{done.pk}/", {"text": TEXT, "consent": "on", "show_name": "on"}
    )
    assert bob.full_name.encode() in visitor.get("/").content  # named, as he now chose
    client_a.post(f"/stories/{story.pk}/withdraw/")
    assert TEXT.encode() not in visitor.get("/").content
    assert visitor.get("/api/v1/stories/published/").json() == []
    client_a.force_login(olive)
    assert TEXT.encode() not in client_a.get("/insights/impact/").content
    assert TEXT.encode() not in client_a.get("/stories/organiser/").content
    assert (
        client_a.post(f"/stories/{story.pk}/pick/", {f"s{story.pk}-on_home": "on"}).status_code
        == 404
    )


def test_a_story_without_consent_cannot_be_picked(
    network_a: Network, people: tuple[Member, Member, Member, Member], done: Exchange
) -> None:
    _alice, bob, olive, _eve = people
    with tenant_context(network_a):
        story = story_write(
            actor=bob,
            source="exchange",
            source_id=done.pk,
            text=TEXT,
            consent=False,
            show_name=True,
        )
        with pytest.raises(StoryRefused):
            story_pick(actor=olive, story=story, on_impact=True, on_home=False)
        picked = story_pick(
            actor=olive,
            story=story_write(
                actor=bob,
                source="exchange",
                source_id=done.pk,
                text=TEXT,
                consent=True,
                show_name=True,
            ),
            on_impact=True,
            on_home=False,
        )
        assert picked.on_impact
        # Taking consent back unpicks it.
        again = story_write(
            actor=bob,
            source="exchange",
            source_id=done.pk,
            text=TEXT,
            consent=False,
            show_name=True,
        )
        assert (again.on_impact, again.on_home) == (False, False)


def test_the_api_and_network_b(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    done: Exchange,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    _alice, bob, olive, _eve = people
    client_a.force_login(bob)
    body = {"source": "exchange", "source_id": done.pk, "text": TEXT, "consent": True}
    created = client_a.post("/api/v1/stories/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    story_id = created.json()["id"]
    assert client_a.get("/api/v1/stories/submitted/").status_code == 403
    client_a.force_login(olive)
    with CaptureQueriesContext(connection) as one:
        listed = client_a.get("/api/v1/stories/submitted/").json()
    assert [s["id"] for s in listed] == [story_id]
    with tenant_context(network_a):  # Alice, the other side, tells hers: no more queries
        story_write(
            actor=people[0],
            source="exchange",
            source_id=done.pk,
            text=TEXT,
            consent=True,
            show_name=True,
        )
    with CaptureQueriesContext(connection) as two:
        assert len(client_a.get("/api/v1/stories/submitted/").json()) == 2
    assert len(one) == len(two)
    picked = client_a.post(
        f"/api/v1/stories/{story_id}/pick/",
        {"on_impact": True, "on_home": True},
        content_type="application/json",
    )
    assert picked.status_code == 200 and picked.json()["on_home"]

    # Network B: its members and organisers see nothing of A's story, and cannot act on it.
    ben = make_member(network_b, full_name="Ben B")
    organiser_b = make_member(network_b, full_name="Orla B", role="organiser")
    client_b.force_login(ben)
    assert (
        client_b.post("/api/v1/stories/", body, content_type="application/json").status_code == 404
    )
    assert client_b.post(f"/api/v1/stories/{story_id}/withdraw/").status_code == 404
    assert client_b.get(f"/stories/new/exchange/{done.pk}/").status_code == 404
    client_b.force_login(organiser_b)
    assert client_b.get("/api/v1/stories/submitted/").json() == []
    assert (
        client_b.post(
            f"/api/v1/stories/{story_id}/pick/",
            {"on_impact": False, "on_home": False},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert TEXT.encode() not in Client(HTTP_HOST=host_of(network_b)).get("/").content
    assert TEXT.encode() not in client_b.get("/insights/impact/").content

    client_a.force_login(bob)
    withdrawn = client_a.post(f"/api/v1/stories/{story_id}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    assert client_a.get("/api/v1/stories/published/?place=impact").json() == []

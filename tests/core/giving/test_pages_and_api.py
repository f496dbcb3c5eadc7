"""Giving through the pages and the API, and a member of another network failing to see or
change any of it."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING

from django.utils import timezone
from django_tenants.utils import tenant_context

from core.giving.models import Gift, GivingSettings
from core.giving.services import gift_give, pot_grant
from core.projects.services import project_fund, project_propose
from ledger.selectors import member_balance
from ledger.services import pot_account, project_account

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse
    from pytest_django import DjangoAssertNumQueries

    from core.members.models import Member
    from core.projects.models import Project
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _key(page: TestResponse) -> str:
    found = re.search(rb'name="key" value="([0-9a-f]{32})"', page.content)
    assert found is not None, page.content
    return found.group(1).decode()


def _project(network: Network, organiser: Member) -> Project:
    with tenant_context(network):
        project = project_propose(
            actor=organiser,
            title="Falls",
            aim="Fewer falls",
            description="PDSA cycles",
            budget_minutes=60,
            starts_on=timezone.localdate(),
            ends_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        return project_fund(actor=organiser, project=project)


def test_giving_from_a_profile_a_project_and_the_pot_page(
    network_a: Network, people: dict[str, Member], client_a: NetworkClient
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    project = _project(network_a, olu)
    client_a.force_login(alice)
    profile = client_a.get(f"/members/{bob.pk}/")
    assert f'href="/giving/members/{bob.pk}/"'.encode() in profile.content
    form = client_a.get(f"/giving/members/{bob.pk}/")
    assert b"Give credit to Bob Bell" in form.content
    sent = {"minutes": "0.5", "message": "Thank you!", "key": _key(form)}
    for _ in range(2):  # sent twice (Back and resubmit) gives once
        done = client_a.post(f"/giving/members/{bob.pk}/", sent, follow=True)
        assert b"You gave Bob Bell 30 minutes of credit." in done.content
    statement = client_a.get("/ledger/statement/")
    assert b"Gift to Bob Bell" in statement.content and b"Thank you!" in statement.content

    assert (
        f'href="/giving/projects/{project.pk}/"'.encode()
        in client_a.get(f"/projects/{project.pk}/").content
    )
    form = client_a.get(f"/giving/projects/{project.pk}/")
    sent = {"minutes": "0.25", "message": "", "key": _key(form)}
    done = client_a.post(f"/giving/projects/{project.pk}/", sent, follow=True)
    assert "You gave 15 minutes to “Falls”.".encode() in done.content

    assert b'href="/giving/pot/"' in client_a.get("/ledger/statement/").content
    form = client_a.get("/giving/pot/give/")
    refused = client_a.post("/giving/pot/give/", {"minutes": "3", "key": _key(form)})
    assert b"You have 1 hour 15 minutes of credit, so you cannot give 3 hours" in refused.content
    done = client_a.post("/giving/pot/give/", {"minutes": "1", "key": _key(refused)}, follow=True)
    assert b"You gave 1 hour to the community pot." in done.content
    pot = client_a.get("/giving/pot/")
    assert b"Grant from the pot" not in pot.content
    with tenant_context(network_a):
        assert member_balance(member=alice) == 15
        assert member_balance(member=bob) == 150
        assert project_account(project.pk).balance == 75
        assert pot_account().balance == 60


def test_an_organiser_grants_from_the_pot_and_sets_the_limits(
    network_a: Network, people: dict[str, Member], client_a: NetworkClient
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        gift_give(actor=alice, minutes=60, message="", key="pot")
    client_a.force_login(olu)
    assert b'href="/giving/settings/"' not in client_a.get("/giving/pot/").content
    assert b'href="/settings/giving/"' in client_a.get("/giving/pot/").content
    form = client_a.get(f"/giving/pot/grant/?member={bob.pk}")
    missing = client_a.post(
        "/giving/pot/grant/",
        {"recipient": bob.pk, "minutes": "0.5", "reason": "", "key": _key(form)},
    )
    assert b"This field is required" in missing.content
    done = client_a.post(
        "/giving/pot/grant/",
        {"recipient": bob.pk, "minutes": "0.5", "reason": "New starter", "key": _key(form)},
        follow=True,
    )
    assert b"Bob Bell received 30 minutes from the pot." in done.content
    assert b"New starter" in done.content  # organisers see the reason on the pot page
    sent = {"member_monthly_minutes": "4", "pot_monthly_minutes": "0"}
    saved = client_a.post("/settings/giving/", sent, follow=True)
    assert b"The giving limits are saved." in saved.content
    with tenant_context(network_a):
        limits = GivingSettings.objects.get()
        assert (limits.member_monthly_minutes, limits.pot_monthly_minutes) == (240, 0)
    client_a.force_login(alice)
    assert client_a.get("/giving/pot/grant/").status_code == 403
    assert client_a.get("/settings/giving/").status_code == 403
    assert b"New starter" not in client_a.get("/giving/pot/").content


def test_the_api_gives_once_per_idempotency_key(
    network_a: Network, people: dict[str, Member], client_a: NetworkClient
) -> None:
    alice, bob = people["alice"], people["bob"]
    client_a.force_login(alice)
    url = f"/api/v1/giving/members/{bob.pk}/gifts/"
    body = {"minutes": 30, "message": "For the teaching"}
    first = client_a.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": "gift-1"}
    )
    assert first.status_code == 201, first.content
    again = client_a.post(
        url, body, content_type="application/json", headers={"Idempotency-Key": "gift-1"}
    )
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["key"] == "gift-1"
    with tenant_context(network_a):
        # The kept answer gone (24 hours later, say), the same key still gives once.
        assert (
            gift_give(
                actor=alice, minutes=30, message="For the teaching", key="gift-1", recipient=bob
            ).pk
            == first.json()["id"]
        )
        assert member_balance(member=alice) == 90
    too_much = client_a.post(url, {"minutes": 300}, content_type="application/json")
    assert too_much.status_code == 400
    assert "you cannot give 5 hours" in too_much.json()["detail"]
    assert (
        client_a.post(url, {"minutes": "lots"}, content_type="application/json").status_code == 400
    )
    assert (
        client_a.post(
            f"/api/v1/giving/members/{alice.pk}/gifts/", body, content_type="application/json"
        ).status_code
        == 400
    )
    pot = client_a.post(
        "/api/v1/giving/pot/gifts/", {"minutes": 15}, content_type="application/json"
    )
    assert pot.status_code == 201 and pot.json()["kind"] == "pot"
    allowance = client_a.get("/api/v1/giving/allowance/").json()
    assert allowance == {"limit_minutes": 600, "given_minutes": 45, "remaining_minutes": 555}
    assert client_a.get("/api/v1/giving/pot/").json()["balance_minutes"] == 15
    grant = {"member_id": bob.pk, "minutes": 15, "reason": "x"}
    refused = client_a.post("/api/v1/giving/pot/grants/", grant, content_type="application/json")
    assert refused.status_code == 403
    statement = client_a.get("/api/v1/ledger/statement/").json()["results"]
    assert statement[1]["description"] == "Gift to Bob Bell"


def test_the_api_for_organisers_and_the_gift_list(
    network_a: Network,
    people: dict[str, Member],
    client_a: NetworkClient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    with tenant_context(network_a):
        for n in range(4):
            gift_give(actor=alice, minutes=15, message=f"n{n}", key=f"a{n}", recipient=bob)
        gift_give(actor=bob, minutes=60, message="", key="pot")
    client_a.force_login(olu)
    granted = client_a.post(
        "/api/v1/giving/pot/grants/",
        {"member_id": bob.pk, "minutes": 30, "reason": "Lost credit in a dispute"},
        content_type="application/json",
    )
    assert granted.status_code == 201, granted.content
    limits = client_a.put(
        "/api/v1/giving/settings/",
        {"member_monthly_minutes": 120, "pot_monthly_minutes": 20},
        content_type="application/json",
    )
    assert limits.status_code == 400 and limits.json()["field"] == "pot_monthly_minutes"
    assert client_a.get("/api/v1/giving/pot/").json()["recent"][0]["reason"] == (
        "Lost credit in a dispute"
    )
    client_a.force_login(bob)
    with django_assert_max_num_queries(8):
        listed = client_a.get("/api/v1/giving/gifts/").json()
    assert [(g["direction"], g["minutes"], g["counterpart"]) for g in listed] == [
        *[("received", 15, "Alice Ames")] * 4,
        ("given", 60, "The community pot"),
        ("received", 30, "The community pot"),
    ]
    assert client_a.get("/api/v1/giving/gifts/?start=2999-01-01").json() == []
    assert client_a.get("/api/v1/giving/gifts/?start=soon").status_code == 400
    assert client_a.get("/api/v1/giving/pot/").json()["recent"][0]["reason"] == ""


def test_another_network_cannot_give_to_or_see_this_networks_members_projects_or_pot(
    network_a: Network,
    network_b: Network,
    people: dict[str, Member],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice, bob, olu = people["alice"], people["bob"], people["olu"]
    project = _project(network_a, olu)
    with tenant_context(network_a):
        gift_give(actor=alice, minutes=60, message="Private note", key="pot")
        pot_grant(actor=olu, recipient=bob, minutes=15, reason="Secret reason", key="g")
    outsider = make_member(network_b, full_name="Bea Outsider", role="organiser")
    # B's ids start again at 1: give B enough members that A's ids mean no one in B.
    assert outsider.pk < bob.pk
    with tenant_context(network_b):
        from ledger.services import gift_grant

        gift_grant(member=outsider)
    client_b.force_login(outsider)
    for url in (f"/giving/members/{bob.pk}/", f"/giving/projects/{project.pk}/"):
        assert client_b.get(url).status_code == 404, url
        assert client_b.post(url, {"minutes": "0.5", "key": "x" * 32}).status_code == 404, url
    for url in (
        f"/api/v1/giving/members/{bob.pk}/gifts/",
        f"/api/v1/giving/projects/{project.pk}/gifts/",
    ):
        assert (
            client_b.post(url, {"minutes": 15}, content_type="application/json").status_code == 404
        ), url
    grant = client_b.post(
        "/api/v1/giving/pot/grants/",
        {"member_id": bob.pk, "minutes": 15, "reason": "x"},
        content_type="application/json",
    )
    assert grant.status_code == 404
    # B's pot page and API show B's empty pot, nothing of A's.
    pot = client_b.get("/giving/pot/")
    assert b"Secret reason" not in pot.content and b"Bob Bell" not in pot.content
    assert client_b.get("/api/v1/giving/pot/").json()["balance_minutes"] == 0
    # A signed-in member of B is no one on A's site.
    client_a.cookies = client_b.cookies
    assert client_a.get("/giving/pot/").status_code == 302
    assert client_a.get("/api/v1/giving/pot/").status_code in (401, 403)
    with tenant_context(network_a):
        assert pot_account().balance == 45
        assert member_balance(member=bob) == 135
        assert project_account(project.pk).balance == 60
        assert Gift.objects.count() == 2

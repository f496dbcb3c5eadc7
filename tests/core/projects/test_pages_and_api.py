"""Projects through the pages and the API, as members, leads and organisers use them."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from core.projects.models import HoursConfirmation, Project, Volunteer
from core.projects.services import volunteer_confirm_hours, volunteer_pledge
from ledger.models import Transfer
from ledger.selectors import member_balance
from ledger.services import project_account

from .conftest import FALLS, dates, worked

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import DjangoAssertNumQueries

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _form(**extra: Any) -> dict[str, Any]:
    span = dates()
    return {
        "title": FALLS["title"],
        "aim": FALLS["aim"],
        "description": FALLS["description"],
        "budget_minutes": "10",
        "curated_skills": ["run charts", "qi methods"],
        "other_skills": "falls prevention, frailty",
        "starts_on": span["starts_on"].isoformat(),
        "ends_on": span["ends_on"].isoformat(),
        **extra,
    }


def test_the_whole_journey_through_the_pages(
    network_a: Network,
    lead: Member,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    amara = make_member(network_a, full_name="Amara Adeyemi")
    client_a.force_login(lead)
    assert b'href="/projects/"' in client_a.get("/").content  # the nav links to projects
    created = client_a.post("/projects/new/", _form())
    assert created.status_code == 302, created.content
    project_id = int(created["Location"].rstrip("/").split("/")[-1])
    with tenant_context(network_a):
        project = Project.objects.get(pk=project_id)
        assert (project.budget_minutes, project.state) == (600, "proposed")
        assert project.skills_wanted == ["run charts", "qi methods", "falls prevention", "frailty"]

    client_a.force_login(organiser)
    page = client_a.get(f"/projects/{project_id}/")
    assert b"Approve and fund 10 hours" in page.content
    funded = client_a.post(f"/projects/{project_id}/fund/", follow=True)
    assert b"The project is approved and funded." in funded.content

    client_a.force_login(amara)
    assert b"Volunteer for this project" in client_a.get(f"/projects/{project_id}/").content
    pledged = client_a.post(f"/projects/{project_id}/volunteer/", {"pledged_minutes": "2.5"})
    assert pledged.status_code == 302

    client_a.force_login(lead)
    confirm_page = client_a.get(f"/projects/{project_id}/confirm/")
    key = re.search(rb'name="key" value="([0-9a-f]{32})"', confirm_page.content)
    assert key is not None
    with tenant_context(network_a):
        volunteer = Volunteer.objects.get(member=amara)
    form = {
        "volunteer": volunteer.pk,
        "minutes": "1.5",
        "key": key.group(1).decode(),
        "worked_on": worked(1).isoformat(),
    }
    for _ in range(2):  # the form sent twice (a double click) pays once
        sent = client_a.post(f"/projects/{project_id}/confirm/", form, follow=True)
        assert b"Amara Adeyemi has been paid 1 hour 30 minutes." in sent.content
    detail = client_a.get(f"/projects/{project_id}/").content.decode()
    assert '<progress id="progress-' in detail
    assert 'max="600" value="90"' in detail
    assert "1 hour 30 minutes given of a 10 hours budget (15%)" in detail
    assert "2 hours 30 minutes pledged by 1 volunteer" in detail
    assert "8 hours 30 minutes left to pay" in detail
    with tenant_context(network_a):
        assert member_balance(member=amara) == 90
        assert HoursConfirmation.objects.count() == 1

    closed = client_a.post(f"/projects/{project_id}/close/", follow=True)
    assert b"The project is closed" in closed.content
    with tenant_context(network_a):
        assert project_account(project_id).balance == 0
        assert Project.objects.get(pk=project_id).state == "closed"
    call_command("ledger_audit")


def test_page_forms_show_clear_errors_and_write_nothing(
    network_a: Network,
    lead: Member,
    funded: Project,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    client_a.force_login(lead)
    response = client_a.post("/projects/new/", _form(budget_minutes="1.1"))
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "Enter whole or quarter hours" in response.content.decode()
    response = client_a.post("/projects/new/", _form(ends_on="2000-01-01"))
    assert "The project ends before it starts." in response.content.decode()
    with tenant_context(network_a):
        assert Project.objects.count() == 1  # only the funded fixture

        amara = make_member(network_a)
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
    form = {
        "volunteer": volunteer.pk,
        "minutes": "11",
        "key": "too-much",
        "worked_on": worked(1).isoformat(),
    }
    response = client_a.post(f"/projects/{funded.pk}/confirm/", form)
    page = response.content.decode()
    assert "The project has 10 hours of its budget left, so it cannot pay 11 hours." in page
    assert 'value="too-much"' not in page  # the corrected form goes under a new key
    with tenant_context(network_a):
        assert not HoursConfirmation.objects.exists()
        assert member_balance(member=amara) == 0


def test_the_api_proposes_funds_pays_and_closes(
    network_a: Network,
    lead: Member,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    amara = make_member(network_a)
    client_a.force_login(lead)
    body = {**FALLS, **{k: v.isoformat() for k, v in dates().items()}, "budget_minutes": 120}
    created = client_a.post("/api/v1/projects/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    project = created.json()
    assert (project["state"], project["remaining_minutes"], project["volunteers"]) == (
        "proposed",
        120,
        [],
    )
    bad = client_a.post(
        "/api/v1/projects/", {**body, "budget_minutes": 100}, content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": "The hours budget must be in whole or quarter hours.",
        "field": "budget_minutes",
    }
    url = f"/api/v1/projects/{project['id']}/"
    assert client_a.post(f"{url}fund/").status_code == 403  # a QI lead cannot fund

    client_a.force_login(organiser)
    funded = client_a.post(f"{url}fund/")
    assert funded.status_code == 200 and funded.json()["state"] == "approved"
    assert client_a.post(f"{url}fund/").json()["detail"] == (
        "This project is approved and funded, so it cannot be funded."
    )

    client_a.force_login(amara)
    pledge = client_a.post(f"{url}volunteers/", {"pledged_minutes": 60})
    assert pledge.status_code == 200, pledge.content
    volunteer_id = pledge.json()["id"]
    assert (
        client_a.post(
            f"{url}confirmations/",
            {"volunteer_id": volunteer_id, "minutes": 60, "worked_on": worked(1).isoformat()},
        ).status_code
        == 403
    )

    client_a.force_login(lead)
    paid = {
        "volunteer_id": volunteer_id,
        "minutes": 90,
        "key": "api-1",
        "worked_on": worked(2).isoformat(),
    }
    first = client_a.post(f"{url}confirmations/", paid)
    again = client_a.post(f"{url}confirmations/", paid)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    over = client_a.post(
        f"{url}confirmations/",
        {**paid, "key": "api-2", "minutes": 45, "worked_on": worked(1).isoformat()},
    )
    assert over.status_code == 400
    assert over.json()["remaining_minutes"] == 30
    detail = client_a.get(url).json()
    assert (detail["confirmed_minutes"], detail["remaining_minutes"]) == (90, 30)
    assert detail["volunteers"][0]["confirmed_minutes"] == 90
    closed = client_a.post(f"{url}close/").json()
    assert (closed["state"], closed["remaining_minutes"]) == ("closed", 0)
    with tenant_context(network_a):
        assert member_balance(member=amara) == 90
        returned = Transfer.objects.get(idempotency_key=f"project:{project['id']}:close")
        assert sorted(e.amount for e in returned.entries.all()) == [-30, 30]
    call_command("ledger_audit")


def test_members_without_the_role_are_refused_on_pages_and_api(
    network_a: Network,
    lead: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    member = make_member(network_a)
    project = propose()
    client_a.force_login(member)
    assert client_a.get("/projects/new/").status_code == 403
    assert (
        client_a.post("/api/v1/projects/", {}, content_type="application/json").status_code == 400
    )  # shapes first; then the role
    assert client_a.get(f"/projects/{project.pk}/").status_code == 404  # a proposal is private
    client_a.force_login(lead)
    assert client_a.get(f"/projects/{project.pk}/decline/").status_code == 403
    refused = client_a.post(f"/projects/{project.pk}/fund/", follow=True)
    assert b"Only organisers can approve and fund projects." in refused.content
    assert (
        client_a.post(f"/api/v1/projects/{project.pk}/decline/", {"reason": "x"}).status_code == 403
    )
    with tenant_context(network_a):
        assert Project.objects.get(pk=project.pk).state == "proposed"
        assert not Transfer.objects.filter(kind=Transfer.Kind.PROJECT_FUND).exists()


def test_another_network_cannot_see_or_change_a_project(
    network_a: Network,
    network_b: Network,
    lead: Member,
    funded: Project,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
    outsider = make_member(network_b, role="organiser")
    client_b.force_login(outsider)
    assert client_b.get("/api/v1/projects/").json()["results"] == []
    assert b"Fewer falls" not in client_b.get("/projects/").content
    api = f"/api/v1/projects/{funded.pk}/"
    assert client_b.get(api).status_code == 404
    assert client_b.get(f"/projects/{funded.pk}/").status_code == 404
    attempts = {
        "fund/": {},
        "decline/": {"reason": "x"},
        "close/": {},
        "volunteers/": {"pledged_minutes": 60},
        "confirmations/": {
            "volunteer_id": volunteer.pk,
            "minutes": 15,
            "worked_on": worked(1).isoformat(),
        },
    }
    for action, data in attempts.items():
        assert client_b.post(f"{api}{action}", data).status_code == 404, action
    for page in ("fund/", "close/", "volunteer/", "confirm/", "decline/"):
        assert client_b.post(f"/projects/{funded.pk}/{page}").status_code == 404, page
    with tenant_context(network_a):
        project = Project.objects.get(pk=funded.pk)
        assert project.state == "approved"
        assert project_account(funded.pk).balance == 600
        assert Volunteer.objects.get().confirmed_minutes == 0


@pytest.mark.parametrize("count", [2, 8])
def test_listing_projects_costs_the_same_queries_however_many(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    count: int,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    from core.projects.services import project_fund

    members = [make_member(network_a) for _ in range(3)]
    with tenant_context(network_a):
        for n in range(count):
            project = project_fund(actor=organiser, project=propose(title=f"Project {n}"))
            for member in members:
                volunteer = volunteer_pledge(actor=member, project=project, pledged_minutes=60)
                volunteer_confirm_hours(
                    actor=lead,
                    project=project,
                    volunteer=volunteer,
                    minutes=15,
                    worked_on=worked(1),
                    key=f"{n}-{member.pk}",
                )
    client_a.force_login(members[0])
    # Tenant routing (3), session, member, the member's own and group permissions, the count
    # and one page of projects with their leads and progress: the same for 2 or 8 projects.
    with django_assert_max_num_queries(9):
        listed = client_a.get("/api/v1/projects/").json()
    assert len(listed["results"]) == count
    assert listed["results"][0]["confirmed_minutes"] == 45
    assert listed["results"][0]["pledged_minutes"] == 180
    assert listed["results"][0]["remaining_minutes"] == 600 - 45
    # The page adds the network's theme and the unread-notification count.
    with django_assert_max_num_queries(11):
        page = client_a.get("/projects/")
    assert page.content.count(b"<progress ") == count


def test_the_api_lists_projects_in_pages_by_state_and_refuses_other_states(
    network_a: Network, lead: Member, propose: Callable[..., Project], client_a: NetworkClient
) -> None:
    propose()
    client_a.force_login(lead)
    page = client_a.get("/api/v1/projects/?state=proposed").json()
    assert (page["count"], page["next"], [p["state"] for p in page["results"]]) == (
        1,
        None,
        ["proposed"],
    )
    assert client_a.get("/api/v1/projects/?state=approved").json()["count"] == 0
    for state in ("nonsense", ""):
        refused = client_a.get(f"/api/v1/projects/?state={state}")
        assert refused.status_code == 400, state
        assert "state" in refused.json()
    assert client_a.get("/api/v1/projects/?page=").status_code == 404

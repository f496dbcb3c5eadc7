"""The project pages in a real Chromium: accessibility, keyboard, and no JavaScript needed."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.members.models import Role
from core.projects.services import (
    project_fund,
    project_propose,
    volunteer_confirm_hours,
    volunteer_pledge,
)
from ledger.selectors import member_balance
from tests.browser.conftest import axe_scan, screenshot, url

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from core.projects.models import Project
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "purple.localhost"


@pytest.fixture
def projects(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Project, Project, Member]:
    """An organiser who leads a funded project with one volunteer, and a proposal."""
    purple = make_network("purple", "Purple Trust")
    organiser = make_member(
        purple,
        email="olivia@nhs.net",
        full_name="Olivia Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    amara = make_member(purple, full_name="Amara Adeyemi")
    today = timezone.localdate()
    fields: dict[str, Any] = {
        "aim": "Fewer falls by March.",
        "description": "PDSA cycles on ward 7B.",
        "starts_on": today - datetime.timedelta(days=14),
        "ends_on": today + datetime.timedelta(days=60),
        "skills_wanted": ["run charts"],
    }
    with tenant_context(purple):
        funded = project_fund(
            actor=organiser,
            project=project_propose(
                actor=organiser, title="Fewer falls", budget_minutes=600, **fields
            ),
        )
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=120)
        volunteer_confirm_hours(
            actor=organiser,
            project=funded,
            volunteer=volunteer,
            minutes=60,
            worked_on=today - datetime.timedelta(days=7),
            key="first",
        )
        proposal = project_propose(
            actor=organiser, title="Discharge letters", budget_minutes=240, **fields
        )
    return purple, funded, proposal, amara


def _sign_in(page: Page, live_server: LiveServer) -> None:
    page.goto(url(live_server, HOST, "/accounts/login/"))
    page.get_by_label("Email address").fill("olivia@nhs.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url(live_server, HOST, "/"))


def test_project_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, page: Page, projects: tuple[Network, Project, Project, Member]
) -> None:
    _, funded, proposal, _ = projects
    _sign_in(page, live_server)
    paths = {
        "projects": "/projects/",
        "project": f"/projects/{funded.pk}/",
        "proposal": f"/projects/{proposal.pk}/",
        "propose a project": "/projects/new/",
        "decline a project": f"/projects/{proposal.pk}/decline/",
        "confirm hours": f"/projects/{funded.pk}/confirm/",
    }
    serious = {}
    for name, path in paths.items():
        page.goto(url(live_server, HOST, path))
        screenshot(page, name.replace(" ", "-"))
        result = axe_scan(page)
        serious[name] = [
            (v["id"], v["help"])
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
    assert serious == {name: [] for name in paths}
    page.goto(url(live_server, HOST, f"/projects/{funded.pk}/"))
    bar = page.get_by_label("Hours given to Fewer falls")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("600", "60")
    assert "1 hour given of a 10 hours budget (10%)" in page.locator("main").inner_text()


def test_keyboard_alone_reaches_every_control_of_the_proposal_form(
    live_server: LiveServer, page: Page, projects: tuple[Network, Project, Project, Member]
) -> None:
    _sign_in(page, live_server)
    page.goto(url(live_server, HOST, "/projects/new/"))
    controls = page.eval_on_selector_all(
        "main input:not([type=hidden]), main textarea, main select, main button",
        "els => els.map(e => e.id || e.textContent.trim())",
    )
    reached = []
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        )
    assert controls and set(controls) <= set(reached)


def test_hours_are_confirmed_without_javascript(
    live_server: LiveServer,
    browser: WatchedBrowser,
    projects: tuple[Network, Project, Project, Member],
) -> None:
    purple, funded, _, amara = projects
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        _sign_in(page, live_server)
        page.goto(url(live_server, HOST, f"/projects/{funded.pk}/"))
        page.get_by_role("link", name="Confirm hours for Amara Adeyemi").click()
        page.get_by_label("Hours given").fill("1.25")
        today = timezone.localdate().isoformat()
        assert page.get_by_label("Day the hours were given").input_value() == today
        page.get_by_role("button", name="Confirm and pay").click()
        page.wait_for_url(url(live_server, HOST, f"/projects/{funded.pk}/"))
        assert "Amara Adeyemi has been paid 1 hour 15 minutes." in page.locator("main").inner_text()
        # Back to the form, loaded afresh, and the same hours sent again: nothing more paid.
        page.go_back()
        page.reload()
        page.get_by_label("Hours given").fill("1.25")
        page.get_by_role("button", name="Confirm and pay").click()
        page.wait_for_url(url(live_server, HOST, f"/projects/{funded.pk}/"))
        assert (
            "already confirmed (1 hour 15 minutes); nothing more was paid"
            in page.locator("main").inner_text()
        )
    finally:
        context.close()
    with tenant_context(purple):
        assert member_balance(member=amara) == 60 + 75

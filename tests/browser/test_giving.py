"""The giving pages in a real Chromium: accessibility, and a gift given without JavaScript."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.giving.services import gift_give, pot_grant
from core.members.models import Role
from core.projects.services import project_fund, project_propose
from ledger.selectors import member_balance
from ledger.services import gift_grant
from tests.browser.conftest import axe_scan, screenshot, sign_in, url

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
HOST = "teal.localhost"


@pytest.fixture
def giving(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Member, Member, Project]:
    """An organiser with a funded project, Amara, and a pot with one grant made."""
    teal = make_network("teal", "Teal Trust")
    organiser = make_member(
        teal,
        email="olivia@nhs.net",
        full_name="Olivia Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    amara = make_member(teal, full_name="Amara Adeyemi")
    today = timezone.localdate()
    with tenant_context(teal):
        for member in (organiser, amara):
            gift_grant(member=member)
        project = project_fund(
            actor=organiser,
            project=project_propose(
                actor=organiser,
                title="Fewer falls",
                budget_minutes=600,
                aim="Fewer falls.",
                description="PDSA cycles.",
                starts_on=today,
                ends_on=today + datetime.timedelta(days=60),
            ),
        )
        gift_give(actor=amara, minutes=60, message="For new starters", key="pot")
        pot_grant(actor=organiser, recipient=amara, minutes=15, reason="A head start", key="g")
    return teal, organiser, amara, project


def test_giving_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, page: Page, giving: tuple[Network, Member, Member, Project]
) -> None:
    _, _, amara, project = giving
    sign_in(page, live_server, HOST, "olivia@nhs.net", PASSWORD)
    paths = {
        "give to a member": f"/giving/members/{amara.pk}/",
        "give to a project": f"/giving/projects/{project.pk}/",
        "give to the pot": "/giving/pot/give/",
        "community pot": "/giving/pot/",
        "grant from the pot": "/giving/pot/grant/",
        "giving limits": "/settings/giving/",
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


def test_a_gift_is_given_from_a_profile_without_javascript(
    live_server: LiveServer,
    browser: WatchedBrowser,
    giving: tuple[Network, Member, Member, Project],
) -> None:
    teal, organiser, amara, _ = giving
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server, HOST, "olivia@nhs.net", PASSWORD)
        page.goto(url(live_server, HOST, f"/members/{amara.pk}/"))
        page.get_by_role("link", name="Give Amara some credit").click()
        page.get_by_label("Hours to give").fill("0.5")
        page.get_by_label("Message (optional)").fill("Thank you for the teaching")
        page.get_by_role("button", name="Give credit").click()
        assert "You gave Amara Adeyemi 30 minutes of credit." in page.locator("main").inner_text()
    finally:
        context.close()
    with tenant_context(teal):
        assert member_balance(member=amara) == 120 - 60 + 15 + 30
        assert member_balance(member=organiser) == 90

"""Equality monitoring in Chromium: a member answers by keyboard-usable radios with an
error summary, the organiser's report and the staff view pass axe and fit a phone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from core.insights.models import EqualityAnswers
from core.insights.services.equality import equality_answers_save
from core.members.models import Member, Role
from tests.browser.conftest import axe_scan, screenshot, url

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "rowan.localhost"
ANSWERS = {
    "ethnic_group": "black_caribbean",
    "gender": "woman",
    "age_band": "25_34",
    "disability": "no",
    "background": "routine",
}


@pytest.fixture
def rowan(make_network: Callable[..., Network], make_member: Callable[..., Member]) -> Network:
    network = make_network("rowan", "Rowan Network")
    olive = make_member(
        network,
        email="olive@nhs.net",
        full_name="Olive Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    make_member(network, email="nia@nhs.net", full_name="Nia Nurse", password=PASSWORD)
    with tenant_context(network):
        for n in range(9):
            member = make_member(network, full_name=f"Colleague {n}")
            equality_answers_save(actor=member, consent=True, **ANSWERS)
        equality_answers_save(actor=olive, consent=True, **{**ANSWERS, "gender": "man"})
    return network


def _sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(url(live_server, HOST, "/accounts/login/"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url(live_server, HOST, "/"))


def _serious(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (v["id"], v["help"]) for v in result["violations"] if v["impact"] in {"serious", "critical"}
    ]


def test_a_member_answers_with_the_keyboard_and_sees_errors_first(
    live_server: LiveServer, page: Page, rowan: Network
) -> None:
    _sign_in(page, live_server, "nia@nhs.net")
    page.get_by_role("link", name="Your profile").click()
    page.get_by_role("link", name="Equality monitoring").click()
    page.get_by_role("button", name="Save my answers").click()
    summary = page.locator(".error-summary")
    assert "There is a problem" in summary.inner_text()
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert _serious(axe_scan(page)) == []
    screenshot(page, "equality-refused")

    page.get_by_role(
        "group", name="Black, Black British, Black Welsh, Caribbean or African"
    ).get_by_label("Caribbean", exact=True).check()
    page.get_by_label("Woman").check()
    page.get_by_label("25 to 34").check()
    page.get_by_role("group", name="Are you disabled").get_by_label("Prefer not to say").check()
    page.get_by_label("Routine, semi-routine manual and service occupations").check()
    page.get_by_label("I agree that my answers are stored").press("Space")
    page.get_by_role("button", name="Save my answers").click()
    assert "Your equality answers are saved" in page.locator(".messages").inner_text()
    with tenant_context(rowan):
        saved = EqualityAnswers.objects.get(member__email="nia@nhs.net")
    assert (saved.ethnic_group, saved.disability) == ("black_caribbean", "prefer_not_to_say")
    page.get_by_role("button", name="Delete my answers").click()
    with tenant_context(rowan):
        assert not EqualityAnswers.objects.filter(member__email="nia@nhs.net").exists()


def test_the_report_and_the_staff_view_are_accessible_and_fit_a_phone(
    live_server: LiveServer, browser: WatchedBrowser, rowan: Network
) -> None:
    """On a phone. The `browser` fixture checks that they fit, at every width it tries."""
    Member.objects.create_user("staff@hexitime.example", PASSWORD, full_name="Staff", is_staff=True)
    context = browser.new_context(viewport={"width": 360, "height": 740})
    phone = context.new_page()
    try:
        _sign_in(phone, live_server, "olive@nhs.net")
        phone.get_by_role("link", name="Equality report").click()
        assert phone.locator("table caption").first.inner_text() == "Ethnic group"
        everyone = phone.get_by_role("row", name="All members").first
        assert "10" in everyone.inner_text()  # 11 members, to the nearest 5
        # Nia has not answered: that 1, and what would give it away, are hidden.
        hidden = phone.get_by_role("row", name="Not answered").first.inner_text()
        assert "*" in hidden and "(hidden)" in hidden
        screenshot(phone, "equality-report-phone")
        assert _serious(axe_scan(phone)) == []

        public = url(live_server, settings.HEXITIME_BASE_DOMAIN, "/console/login/")
        phone.goto(public)
        phone.get_by_label("Email address").fill("staff@hexitime.example")
        phone.get_by_label("Password").fill(PASSWORD)
        phone.get_by_role("button", name="Sign in").click()
        phone.get_by_role("link", name="Figures across all networks").click()
        assert "Rowan Network" in phone.locator("#activity-caption + thead + tbody").inner_text()
        screenshot(phone, "console-insights-phone")
        assert _serious(axe_scan(phone)) == []
    finally:
        context.close()

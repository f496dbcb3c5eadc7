"""Announcements in a real Chromium: an organiser writes one to nurses, previews and sends
it; a nurse sees it on the home page and dismisses it (htmx); a doctor never sees it; the
pages pass axe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.announcements.models import Recipient
from core.members.models import Profession, Role
from tests.browser.conftest import axe_scan, screenshot, sign_in, url

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "coral.localhost"


@pytest.fixture
def coral(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Member]:
    coral = make_network("coral", "Coral Trust")
    make_member(
        coral,
        email="olivia@nhs.net",
        full_name="Olivia Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    nurse = make_member(
        coral,
        email="nia@nhs.net",
        full_name="Nia Nurse",
        password=PASSWORD,
        profession=Profession.NURSE,
    )
    make_member(
        coral,
        email="dan@nhs.net",
        full_name="Dan Doctor",
        password=PASSWORD,
        profession=Profession.DOCTOR,
    )
    return coral, nurse


def serious(page: Page) -> list[tuple[str, str]]:
    return [
        (v["id"], v["help"])
        for v in axe_scan(page)["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_an_organiser_announces_to_nurses_and_a_nurse_dismisses_it(
    live_server: LiveServer, page: Page, coral: tuple[Network, Member]
) -> None:
    network, nurse = coral
    sign_in(page, live_server, HOST, "olivia@nhs.net", PASSWORD)
    page.get_by_role("link", name="Announcements").click()
    page.wait_for_url(url(live_server, HOST, "/announcements/organiser/"))
    assert serious(page) == []
    page.get_by_role("link", name="Write an announcement").click()
    assert serious(page) == []
    page.get_by_label("Title").fill("Nurses' revalidation clinic")
    page.get_by_label("What do you want to tell members?").fill("Tuesday 2pm, library.")
    page.get_by_label("Who is it for?").select_option("profession")
    page.get_by_label("Profession (if for members of a profession)").select_option("nurse")
    page.get_by_role("button", name="Preview").click()
    main = page.locator("main")
    assert "Tuesday 2pm, library." in main.inner_text()
    assert "Members it reaches now" in main.inner_text()
    assert serious(page) == []
    screenshot(page, "announcement-preview")
    page.get_by_role("button", name="Send", exact=True).click()
    page.wait_for_load_state()
    assert "It reached 1 member." in page.locator("main").inner_text()
    assert serious(page) == []
    screenshot(page, "announcement-delivery")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, HOST, "nia@nhs.net", PASSWORD)
    page.goto(url(live_server, HOST, "/"))
    announcement = page.locator("article.announcement")
    assert "Nurses' revalidation clinic" in announcement.inner_text()
    assert serious(page) == []
    screenshot(page, "announcement-home")
    page.get_by_role("button", name="Dismiss “Nurses' revalidation clinic”").click()
    announcement.wait_for(state="detached")  # htmx swapped it out, no page load
    assert page.url == url(live_server, HOST, "/")
    with tenant_context(network):
        assert Recipient.objects.get(member=nurse).dismissed_at is not None
    page.reload()
    assert page.locator("article.announcement").count() == 0
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, HOST, "dan@nhs.net", PASSWORD)
    page.goto(url(live_server, HOST, "/"))
    assert "Nurses' revalidation clinic" not in page.locator("main").inner_text()

"""Safety in a real Chromium: a member reports a listing from its page, the organiser
finds it in the queue and hides the listing; the pages pass axe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.listings.models import Listing
from core.listings.services import listing_create
from core.members.models import Role
from tests.browser.conftest import axe_scan, screenshot, sign_in, url

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "teal.localhost"


@pytest.fixture
def teal(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Listing]:
    teal = make_network("teal", "Teal Trust")
    make_member(
        teal,
        email="olivia@nhs.net",
        full_name="Olivia Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    owner = make_member(teal, full_name="Sam Seller")
    make_member(teal, email="rhea@nhs.net", full_name="Rhea Reporter", password=PASSWORD)
    with tenant_context(teal):
        listing = listing_create(
            actor=owner,
            kind="offer",
            title="Paid exam tutoring",
            description="£40 an hour, cash.",
            category="teaching",
        )
    return teal, listing


def serious(page: Page) -> list[tuple[str, str]]:
    return [
        (v["id"], v["help"])
        for v in axe_scan(page)["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_a_member_reports_a_listing_and_the_organiser_hides_it(
    live_server: LiveServer, page: Page, teal: tuple[Network, Listing]
) -> None:
    network, listing = teal
    sign_in(page, live_server, HOST, "rhea@nhs.net", PASSWORD)
    page.goto(url(live_server, HOST, f"/listings/{listing.pk}/"))
    page.get_by_role("link", name="Report this listing to the organisers").click()
    page.wait_for_url(url(live_server, HOST, f"/safety/report/listing/{listing.pk}/"))
    assert serious(page) == []
    screenshot(page, "report-a-listing")
    page.get_by_label("Spam, selling or misuse of the time bank").check()
    page.get_by_label("Tell the organisers more (optional)").fill("Selling tutoring for cash.")
    page.get_by_role("button", name="Send the report").click()
    page.wait_for_url(url(live_server, HOST, f"/listings/{listing.pk}/"))
    assert "the organisers have your report" in page.locator("main").inner_text()
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, HOST, "olivia@nhs.net", PASSWORD)
    page.get_by_role("link", name="Reports from members").click()
    page.wait_for_url(url(live_server, HOST, "/safety/reports/"))
    assert serious(page) == []
    screenshot(page, "reports-queue")
    page.get_by_role("link", name="Listing: Paid exam tutoring").click()
    assert "Selling tutoring for cash." in page.locator("main").inner_text()
    assert serious(page) == []
    screenshot(page, "report")
    page.get_by_label("Hide the listing").check()
    page.get_by_label("Note for the record").fill("Selling is not allowed in the time bank.")
    page.get_by_role("button", name="Act").click()
    page.wait_for_url(url(live_server, HOST, "/safety/reports/"))
    assert "No open reports" in page.locator("main").inner_text()
    with tenant_context(network):
        hidden = Listing.objects.get(pk=listing.pk).hidden_reason
    assert hidden == "Selling is not allowed in the time bank."

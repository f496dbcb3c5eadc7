"""Campaigns in a real Chromium: an organiser starts one and tags a listing; a member joins
it from the home page and sees its progress bar move when an exchange on that listing
completes."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.members.models import Role
from ledger.services import gift_grant
from tests.browser.conftest import WIDTHS, axe_scan, screenshot, sign_in, url
from tests.core.campaigns.conftest import complete_on, offer

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "purple.localhost"


def _serious(result: dict[str, Any]) -> list[str]:
    return [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_organiser_starts_a_campaign_and_a_member_sees_it_move(
    live_server: LiveServer,
    page: Page,
    browser: WatchedBrowser,
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
) -> None:
    purple = make_network("purple", "Purple Trust")
    make_member(
        purple,
        email="olivia@nhs.net",
        full_name="Olivia Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    gita = make_member(purple, email="gita@nhs.net", full_name="Gita Giver")
    rob = make_member(purple, email="rob@nhs.net", full_name="Rob Receiver", password=PASSWORD)
    with tenant_context(purple):
        gift_grant(member=rob)
        listing = offer(gita, "Switching to low-carbon inhalers")
    today = timezone.localdate()

    sign_in(page, live_server, HOST, "olivia@nhs.net", PASSWORD)
    page.goto(url(live_server, HOST, "/campaigns/"))
    page.get_by_role("link", name="Start a campaign").click()
    page.get_by_label("Title").fill("Green NHS month")
    page.get_by_label("What the campaign is about").fill("Lower-carbon care")
    page.get_by_label("Starts on").fill((today - datetime.timedelta(days=1)).isoformat())
    page.get_by_label("Ends on").fill((today + datetime.timedelta(days=30)).isoformat())
    page.get_by_label("Target (hours)").fill("10")
    found = {"campaign form": _serious(axe_scan(page))}
    page.get_by_role("button", name="Start the campaign").click()
    page.get_by_role("heading", name="Green NHS month", level=1).wait_for()
    page.get_by_label("What to add").select_option(label="Switching to low-carbon inhalers")
    page.get_by_role("button", name="Add", exact=True).click()
    items = page.locator("ul.campaign-items")
    assert "Switching to low-carbon inhalers" in items.inner_text()
    found["campaign (organiser)"] = _serious(axe_scan(page))
    screenshot(page, "campaign-organiser")

    member = browser.new_context(viewport={"width": WIDTHS[1], "height": 800})
    phone = member.new_page()
    sign_in(phone, live_server, HOST, "rob@nhs.net", PASSWORD)
    card = phone.locator("section", has=phone.get_by_role("heading", name="Campaigns running now"))
    bar = card.get_by_label("Hours toward the target of Green NHS month")
    assert (bar.get_attribute("max"), bar.get_attribute("value")) == ("600", "0")
    card.get_by_role("button", name="Join Green NHS month").click()
    phone.wait_for_url(url(live_server, HOST, "/"))
    assert "You have joined." in card.inner_text()
    found["home with a campaign"] = _serious(axe_scan(phone))

    with tenant_context(purple):
        complete_on(listing, rob, minutes=90)
    phone.reload()
    assert bar.get_attribute("value") == "90"
    assert "(15%)" in card.inner_text()
    card.get_by_role("link", name="Green NHS month").click()
    assert (
        phone.get_by_label("Hours toward the target of Green NHS month").get_attribute("value")
        == "90"
    )
    assert "Switching to low-carbon inhalers" in phone.locator("ul.campaign-items").inner_text()
    found["campaign (member)"] = _serious(axe_scan(phone))
    screenshot(phone, "campaign-member")
    member.close()
    assert found == {name: [] for name in found}

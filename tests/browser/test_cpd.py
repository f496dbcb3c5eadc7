"""The CPD record in a real Chromium: reached from the navigation, downloaded as PDF, and
its verification address opened by an appraiser who is not signed in; stories from an
exchange page to the public home."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from core.exchanges import services as x
from core.listings.services import listing_create
from core.members.models import Role
from core.stories.services import story_pick, story_write
from ledger.services import gift_grant
from tests.browser.conftest import axe_scan, screenshot, sign_in, url
from tests.core.exchanges.conftest import to_recorded

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.exchanges.models import Exchange
    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "teal.localhost"


@pytest.fixture
def record(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Exchange]:
    """Nia coached Sam (completed); Sam shared a story, which the organiser picked."""
    teal = make_network("teal", "Teal Health")
    nia = make_member(teal, email="nia@nhs.net", full_name="Nia Nurse", password=PASSWORD)
    sam = make_member(teal, full_name="Sam Student")
    olu = make_member(teal, full_name="Olu Organiser", role=Role.ORGANISER)
    with tenant_context(teal):
        for member in (nia, sam):
            gift_grant(member=member)
        offer = listing_create(
            actor=nia,
            kind="offer",
            title="Wound care coaching",
            description="Dressings and tissue viability.",
            category="coaching",
        )
        done = x.exchange_confirm(actor=sam, exchange=to_recorded(offer, nia, sam))
        story = story_write(
            actor=sam,
            source="exchange",
            source_id=done.pk,
            text="Our team changed how we dress leg ulcers.",
            consent=True,
            show_name=False,
        )
        story_pick(actor=olu, story=story, on_impact=True, on_home=True)
    return teal, done


def test_download_the_record_and_its_verification_says_genuine(
    live_server: LiveServer, browser: WatchedBrowser, record: tuple[Network, Exchange]
) -> None:
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, live_server, HOST, "nia@nhs.net", PASSWORD)
        page.get_by_role("link", name="CPD record").first.click()
        page.get_by_label("The scheme you revalidate under").select_option("nmc")
        page.get_by_role("button", name="Save scheme").click()
        assert "35 hours" in page.locator("main").inner_text()
        screenshot(page, "cpd-record")
        result = axe_scan(page)
        assert [
            v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}
        ] == []
        page.get_by_role("link", name=re.compile("Add a reflection")).click()
        page.get_by_label("Your reflection (private)").fill("Reflection only Nia reads.")
        page.get_by_role("button", name="Save").click()
        with page.expect_download() as downloaded:
            page.get_by_role("button", name="Download as PDF").click()
        path = downloaded.value.path()
        text = "".join(p.extract_text() for p in PdfReader(path).pages).replace("\n", "")
        assert "Wound care coaching" in text and "Reflection only Nia reads." not in text
        found = re.search(r"https?://teal\.[^\s]+/cpd/verify/[A-Z0-9-]+/", text)
        assert found is not None, text
    finally:
        context.close()

    appraiser = browser.new_context()  # nobody signed in
    try:
        check = appraiser.new_page()
        check.goto(url(live_server, HOST, urlsplit(found.group()).path))
        main = check.locator("main").inner_text()
        assert "Genuine and unchanged." in main
        assert "Nia Nurse" in main and "Reflection only Nia reads." not in main
        screenshot(check, "cpd-verification")
        home = appraiser.new_page()
        home.goto(url(live_server, HOST, "/"))
        assert "Our team changed how we dress leg ulcers." in home.locator("main").inner_text()
    finally:
        appraiser.close()


def test_the_exchange_page_leads_to_a_reflection_and_a_story(
    live_server: LiveServer, page: Page, record: tuple[Network, Exchange]
) -> None:
    _teal, done = record
    sign_in(page, live_server, HOST, "nia@nhs.net", PASSWORD)
    page.goto(url(live_server, HOST, f"/exchanges/{done.pk}/"))
    page.get_by_role("link", name=re.compile("Share a story")).click()
    page.get_by_label("What changed for your patients or your team?").fill("Fewer infections.")
    page.get_by_label(re.compile("I agree that organisers may publish")).check()
    page.get_by_role("button", name="Save story").click()
    assert "Fewer infections." in page.locator("main").inner_text()
    result = axe_scan(page)
    assert [v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}] == []

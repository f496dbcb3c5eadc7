"""A group session in a real Chromium: a member books it, the giver marks attendance after
it starts, the attendee confirms, and the credit moves; the session is then in the
attendee's CPD record, whose PDF's verification address says it is genuine to someone not
signed in. The pages pass axe."""

from __future__ import annotations

import datetime
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from core.groupsessions.services import session_create
from ledger.selectors import member_balance
from ledger.services import gift_grant
from tests.browser.conftest import axe_scan, screenshot, sign_in, url

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "teal.localhost"


def _sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_book_attend_confirm_then_the_cpd_record_verifies(
    live_server: LiveServer,
    browser: WatchedBrowser,
    page: Page,
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
) -> None:
    teal = make_network("teal", "Teal Trust")
    gina = make_member(teal, email="gina@nhs.net", full_name="Gina Giver", password=PASSWORD)
    ann = make_member(teal, email="ann@nhs.net", full_name="Ann Attendee", password=PASSWORD)
    starts = timezone.now() + datetime.timedelta(hours=2)
    with tenant_context(teal):
        for member in (gina, ann):
            gift_grant(member=member)
        session = session_create(
            actor=gina,
            title="Sepsis teaching",
            description="Recognising sepsis early.",
            category="teaching",
            format="hybrid",
            starts_at=starts,
            minutes=60,
            capacity=10,
            place="Seminar room 2",
            video_link="https://meet.example.org/sepsis",
        )

    sign_in(page, live_server, HOST, "ann@nhs.net", PASSWORD)
    page.get_by_role("link", name="Group sessions").first.click()
    page.get_by_role("link", name="Sepsis teaching").first.click()
    screenshot(page, "group-session")
    assert [
        v["id"] for v in axe_scan(page)["violations"] if v["impact"] in {"serious", "critical"}
    ] == []
    page.get_by_role("button", name="Book").click()
    assert "Check your email for the calendar invite" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="Add to your calendar (.ics)").is_visible()
    assert page.get_by_role("link", name="https://meet.example.org/sepsis").is_visible()
    _sign_out(page)

    with time_machine.travel(starts + datetime.timedelta(hours=1, minutes=5), tick=True):
        sign_in(page, live_server, HOST, "gina@nhs.net", PASSWORD)
        page.goto(url(live_server, HOST, f"/sessions/{session.pk}/"))
        page.get_by_label("Ann Attendee").check()
        page.get_by_role("button", name="Save attendance").click()
        assert "Attendees are asked to confirm" in page.locator("main").inner_text()
        _sign_out(page)

        sign_in(page, live_server, HOST, "ann@nhs.net", PASSWORD)
        page.goto(url(live_server, HOST, f"/sessions/{session.pk}/"))
        screenshot(page, "group-session-confirm")
        assert [
            v["id"] for v in axe_scan(page)["violations"] if v["impact"] in {"serious", "critical"}
        ] == []
        page.get_by_role("button", name="Confirm").click()
        main = page.locator("main").inner_text()
        assert "your attendance is confirmed" in main and "you paid 1 hour" in main
        story = "Share a story of what changed for your patients or team"
        assert page.get_by_role("link", name=story).is_visible()

        page.get_by_role("link", name="CPD record").first.click()
        assert "Group session: Sepsis teaching" in page.locator("main").inner_text()
        with page.expect_download() as downloaded:
            page.get_by_role("button", name="Download as PDF").click()
        pdf = PdfReader(downloaded.value.path())
        text = "".join(p.extract_text() for p in pdf.pages).replace("\n", "")
        assert "Sepsis teaching" in text
        found = re.search(r"https?://teal\.[^\s]+/cpd/verify/[A-Z0-9-]+/", text)
        assert found is not None, text
    appraiser = browser.new_context()  # nobody signed in
    try:
        check = appraiser.new_page()
        check.goto(url(live_server, HOST, urlsplit(found.group()).path))
        main = check.locator("main").inner_text()
        assert "Genuine and unchanged." in main and "Sepsis teaching" in main
    finally:
        appraiser.close()
    with tenant_context(teal):
        assert member_balance(member=gina) == 120 + 60
        assert member_balance(member=ann) == 120 - 60

"""The whole journey in a real browser: a new member joins and verifies, asks for help,
another member offers it, they agree a time, the hours are recorded and confirmed, and
both balances change on screen.

After the setup (a network and one existing member with the welcome gift) everything
happens by clicking and typing in Chromium; the verification email is sent by a real
Celery worker and read from the outbox. The join, respond and record-hours forms are
filled with the keyboard alone.
"""

from __future__ import annotations

import datetime
import re
import time
from contextlib import ExitStack
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from ledger.services import gift_grant
from tests.browser.conftest import csp_refusals, screenshot, sign_in, tab_to, url
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
TITLE = "Sepsis teaching for new starters"


@pytest.fixture
def riverside(make_network: Callable[..., Network], make_member: Callable[..., Member]) -> Network:
    """A network with one member, Gita, who has her welcome gift and nothing else."""
    network = make_network("riverside", "Riverside Health")
    gita = make_member(network, email="gita@nhs.net", full_name="Gita Giver", password=PASSWORD)
    with tenant_context(network):
        gift_grant(member=gita)
    return network


def _emailed_link(to: str, pattern: str) -> str:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for message in mail.outbox:
            if message.to == [to] and (found := re.search(pattern, str(message.body))):
                return found.group(0)
        time.sleep(0.05)
    raise AssertionError(f"no email to {to} with a link matching {pattern}")


def _balance(page: Page) -> str:
    return page.locator("section[aria-labelledby=credit-heading] .balance").inner_text()


def _shot(page: Page, step: str) -> None:
    screenshot(page, f"journey-{step}")


def test_a_new_member_joins_asks_for_help_and_both_balances_change(
    live_server: LiveServer, worker: None, browser: WatchedBrowser, riverside: Network
) -> None:
    host = host_of(riverside)
    nia = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    gita = browser.new_context(viewport={"width": 1024, "height": 768}).new_page()
    refused = {"nia": csp_refusals(nia), "gita": csp_refusals(gita)}
    clock = ExitStack()  # the clock moves on past the meeting, and back at the end
    try:
        # Nia joins on the network's own join page, with the keyboard alone.
        nia.goto(url(live_server, host, "/join/"))
        assert nia.locator("h1").inner_text() == "Join Riverside Health"
        tab_to(nia, "#id_full_name")
        nia.keyboard.type("Nia Nowak")
        nia.keyboard.press("Tab")
        nia.keyboard.type("nia@nhs.net")
        nia.keyboard.press("Tab")
        nia.keyboard.type(PASSWORD)
        _shot(nia, "01-join")
        tab_to(nia, "main button[type=submit]")
        nia.keyboard.press("Enter")
        nia.wait_for_url(url(live_server, host, "/join/check-email/"))
        assert "We have sent a message to nia@nhs.net" in nia.locator("main").inner_text()
        _shot(nia, "02-check-email")

        # The worker emails the link; she follows it (on the test server's port), then
        # signs in with the password she chose.
        link = urlsplit(_emailed_link("nia@nhs.net", r"https?://[^/\s]+/join/verify/\S+"))
        assert link.hostname == host
        nia.goto(url(live_server, host, link.path))
        nia.wait_for_url(url(live_server, host, "/accounts/login/?next=/"))
        assert "Two hours of credit are in your account" in nia.locator(".messages").inner_text()
        nia.get_by_label("Email address").fill("nia@nhs.net")
        nia.get_by_label("Password").fill(PASSWORD)
        nia.get_by_role("button", name="Sign in").click()
        nia.wait_for_url(url(live_server, host, "/"))
        assert _balance(nia) == "You have 2 hours of credit."
        _shot(nia, "03-verified-home")

        # She asks for help.
        nia.get_by_role("link", name="Offer help or ask for it").click()
        nia.get_by_label("Request for help").check()
        nia.get_by_label("Title").fill(TITLE)
        nia.get_by_label("Describe what you offer or need").fill(
            "I teach new starters about sepsis next month and would like a colleague to "
            "go through the screening tool with me first."
        )
        nia.get_by_label("Category").select_option(label="Teaching")
        nia.get_by_label("How can you meet?").select_option(label="Video call")
        _shot(nia, "04-new-request")
        nia.get_by_role("button", name="Post listing").click()
        assert "Your listing is posted." in nia.locator(".messages").inner_text()
        _shot(nia, "05-request-posted")

        # Gita finds the request by searching and offers help, with the keyboard alone.
        sign_in(gita, live_server, host, "gita@nhs.net", PASSWORD)
        assert _balance(gita) == "You have 2 hours of credit."
        gita.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Offers and requests"
        ).click()
        gita.get_by_label("Search", exact=True).fill("sepsis screening")
        gita.get_by_role("button", name="Search").click()
        assert gita.locator("#results-heading").inner_text() == "1 listing"
        _shot(gita, "06-found")
        gita.get_by_role("link", name=TITLE).click()
        tab_to(gita, "#id_message")
        gita.keyboard.type("I run the sepsis sessions on ward 7. Happy to go through it.")
        gita.keyboard.press("Tab")
        assert gita.evaluate("document.activeElement.textContent") == "Send response"
        gita.keyboard.press("Enter")
        gita.wait_for_url(re.compile(r".*/exchanges/\d+/$"))
        exchange_page = gita.url
        assert "Your response is sent" in gita.locator(".messages").inner_text()
        _shot(gita, "07-offered-help")

        # Nia sees it waiting for her on her home page and accepts.
        nia.get_by_role("link", name="Riverside Health").click()
        nia.get_by_role("link", name=f"Reply to this response: {TITLE}").click()
        assert nia.url == exchange_page
        nia.get_by_role("button", name="Accept").click()
        assert "You accepted" in nia.locator(".messages").inner_text()
        _shot(nia, "08-accepted")

        # She suggests a time; Gita agrees to it.
        meeting = timezone.localtime() + datetime.timedelta(days=3)
        nia.get_by_label("Date and time").fill(meeting.strftime("%Y-%m-%dT14:30"))
        nia.get_by_label("Where", exact=True).fill("Video call")
        nia.get_by_label("Video-call link (optional)").fill("https://meet.example.org/sepsis")
        nia.get_by_role("button", name="Send suggestion").click()
        assert "Your suggestion is sent." in nia.locator(".messages").inner_text()
        _shot(nia, "09-time-suggested")

        gita.get_by_role("link", name="Riverside Health").click()
        gita.get_by_role("link", name=f"Answer the suggested time: {TITLE}").click()
        when = f"{meeting:%A} {meeting.day} {meeting:%B %Y}, 14:30"
        assert when in gita.locator("section[aria-labelledby=agree-heading]").inner_text()
        gita.get_by_role("button", name="Agree to this time").click()
        assert "The meeting is arranged." in gita.locator(".messages").inner_text()
        gita.get_by_role("link", name="Riverside Health").click()
        meetings = gita.locator("section[aria-labelledby=meetings-heading]").inner_text()
        assert TITLE in meetings and "with Nia Nowak" in meetings
        _shot(gita, "10-meeting-arranged")

        # Before the meeting there are no hours to record.
        gita.get_by_role("link", name=TITLE).click()
        assert gita.get_by_role("button", name="Record hours").count() == 0
        assert f"After the meeting on {when}" in gita.locator("main").inner_text()

        # After the meeting Gita records an hour and a half, with the keyboard alone.
        after = meeting.replace(hour=16, minute=0, second=0, microsecond=0)
        clock.enter_context(time_machine.travel(after, tick=True))
        gita.reload()
        tab_to(gita, "#id_record_minutes")
        assert gita.evaluate("document.activeElement.value") == "60"
        gita.keyboard.press("ArrowUp")  # 15 minutes a step
        gita.keyboard.press("ArrowUp")
        assert gita.evaluate("document.activeElement.value") == "90"
        tab_to(gita, "main button[type=submit]")
        assert gita.evaluate("document.activeElement.textContent") == "Record hours"
        gita.keyboard.press("Enter")
        gita.wait_for_load_state()
        assert "Hours recorded." in gita.locator(".messages").inner_text()
        _shot(gita, "11-hours-recorded")

        # Nia confirms; the credit moves.
        nia.get_by_role("link", name="Riverside Health").click()
        nia.get_by_role("link", name=f"Confirm the hours: {TITLE}").click()
        confirm = nia.locator("section[aria-labelledby=confirm-heading]").inner_text()
        assert "Gita Giver recorded 1 hour 30 minutes" in confirm
        met = f"{meeting:%A} {meeting.day} {meeting:%B %Y}"
        assert f"for when you met on {met}" in confirm
        _shot(nia, "12-confirm-hours")
        nia.get_by_role("button", name="Confirm the hours").click()
        assert "the credit has moved" in nia.locator(".messages").inner_text()
        assert nia.locator("p.tag").inner_text() == "Completed"
        _shot(nia, "13-completed")

        # Both balances changed, on screen.
        nia.get_by_role("link", name="Riverside Health").click()
        assert _balance(nia) == "You have 30 minutes of credit."
        _shot(nia, "14-receiver-home")
        nia.get_by_role("link", name="See your full statement").click()
        latest = nia.locator("table.statement tbody tr").first.locator("td").all_inner_texts()
        assert latest[2:] == ["\u22121 hour 30 minutes", "30 minutes"]  # a minus sign
        _shot(nia, "15-receiver-statement")

        gita.get_by_role("link", name="Riverside Health").click()
        assert _balance(gita) == "You have 3 hours 30 minutes of credit."
        _shot(gita, "16-giver-home")
    finally:
        clock.close()
        nia.context.close()
        gita.context.close()
    assert refused == {"nia": [], "gita": []}

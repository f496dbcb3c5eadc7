"""Inviting people and managing members in Chromium: an organiser uploads a CSV of people
to invite, one of them joins in one step from the link, and the organiser finds a member
by searching the members page and deactivates them; the deactivated person, signing in,
is told why they cannot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import FilePayload

from core.joining.services import invitation_token, join_settings_set
from core.members.models import Invitation, JoinPolicy, Role
from tests.browser.conftest import axe_scan, screenshot, sign_in, unlabelled_controls, url
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"


def _serious(found: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}]
        for name, result in found.items()
    }


def test_an_organiser_invites_by_csv_and_deactivates_a_member(
    live_server: LiveServer,
    browser: WatchedBrowser,
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
) -> None:
    network = make_network("cedar", "Cedar Trust")
    host = host_of(network)
    organiser = make_member(
        network,
        email="olive@nhs.net",
        full_name="Olive Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    make_member(network, email="dan@nhs.net", full_name="Dan Day", password=PASSWORD)
    with tenant_context(network):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
    olive = browser.new_context().new_page()
    nia = browser.new_context().new_page()
    dan = browser.new_context().new_page()
    found: dict[str, Any] = {}
    unlabelled: dict[str, list[str]] = {}
    try:
        sign_in(olive, live_server, host, "olive@nhs.net", PASSWORD)
        olive.get_by_role("link", name="Invite people").click()
        olive.get_by_label("CSV file").set_input_files(
            files=[
                FilePayload(
                    name="people.csv",
                    mimeType="text/csv",
                    buffer=b"name,email,role\nNia Nowak,nia@nhs.net,QI lead\nBob,not-an-address,\n",
                )
            ]
        )
        olive.get_by_role("button", name="Upload and invite").click()
        summary = olive.locator(".error-summary").inner_text()
        assert "Row 3: “not-an-address” is not an email address." in summary
        found["invitations refused"] = axe_scan(olive)
        olive.get_by_label("CSV file").set_input_files(
            files=[
                FilePayload(
                    name="people.csv",
                    mimeType="text/csv",
                    buffer=b"name,email,role\n"
                    b"Nia Nowak,nia@nhs.net,QI lead\nBob Bell,bob@nhs.net,\n",
                )
            ]
        )
        olive.get_by_role("button", name="Upload and invite").click()
        main = olive.locator("main").inner_text()
        assert "Invited 2 people." in main and "nia@nhs.net" in main and "bob@nhs.net" in main
        screenshot(olive, "invitations")
        found["invitations"] = axe_scan(olive)
        unlabelled["invitations"] = unlabelled_controls(olive)
        olive.get_by_role("button", name="Withdraw the invitation to bob@nhs.net").click()
        assert "bob@nhs.net" not in olive.locator("table").inner_text()

        with tenant_context(network):
            token = invitation_token(Invitation.objects.get(email="nia@nhs.net"))
        nia.goto(url(live_server, host, f"/join/invited/{token}/"))
        assert "nia@nhs.net" in nia.locator("main").inner_text()
        found["join by invitation"] = axe_scan(nia)
        unlabelled["join by invitation"] = unlabelled_controls(nia)
        assert nia.get_by_label("Your name").input_value() == "Nia Nowak"
        nia.get_by_label("Choose a password").fill(PASSWORD)
        nia.get_by_role("button", name="Join Cedar Trust").click()
        assert "Signed in as Nia Nowak" in nia.locator("body").inner_text()

        olive.goto(url(live_server, host, "/members/roles/"))
        olive.get_by_label("Search by name, email or organisation").fill("dan")
        olive.get_by_role("button", name="Search").click()
        table = olive.locator("table").inner_text()
        assert "Dan Day" in table and "Nia Nowak" not in table
        olive.get_by_role("button", name="Deactivate Dan Day").click()
        assert "Dan Day's account is deactivated" in olive.locator("main").inner_text()
        found["members"] = axe_scan(olive)
        unlabelled["members"] = unlabelled_controls(olive)

        dan.goto(url(live_server, host, "/accounts/login/"))
        dan.get_by_label("Email address").fill("dan@nhs.net")
        dan.get_by_label("Password").fill(PASSWORD)
        dan.get_by_role("button", name="Sign in").click()
        told = dan.locator("main").inner_text()
        assert "Your account in Cedar Trust has been deactivated by an organiser" in told
        screenshot(dan, "deactivated-sign-in")

        # On a phone the pages do not scroll sideways (wide tables scroll in their region).
        olive.set_viewport_size({"width": 360, "height": 740})
        too_wide = {}
        for path in ("/members/invitations/", "/members/roles/", "/members/approvals/"):
            olive.goto(url(live_server, host, path))
            too_wide[path] = olive.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
        assert too_wide == dict.fromkeys(too_wide, 0)
    finally:
        for page in (olive, nia, dan):
            page.context.close()
    assert _serious(found) == {name: [] for name in found}
    assert unlabelled == {name: [] for name in unlabelled}

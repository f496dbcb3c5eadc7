"""Requests to join in Chromium: the organiser sees one waiting on their home page and
declines it with a reason; the person declined, signing in, is told so and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.joining.services import (
    join_settings_set,
    member_join,
    member_verify_email,
    verification_token,
)
from core.members.models import JoinPolicy, Role
from tests.browser.conftest import screenshot, sign_in, url
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"


def test_an_organiser_declines_a_request_and_the_person_is_told_why(
    live_server: LiveServer,
    browser: WatchedBrowser,
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
) -> None:
    network = make_network("birch", "Birch Trust")
    host = host_of(network)
    organiser = make_member(
        network,
        email="olive@nhs.net",
        full_name="Olive Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    with tenant_context(network):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
        sam = member_join(email="sam@example.org", full_name="Sam Singh", password=PASSWORD)
        assert sam is not None  # a new address
        member_verify_email(token=verification_token(sam))
    olive = browser.new_context().new_page()
    visitor = browser.new_context().new_page()
    try:
        sign_in(olive, live_server, host, "olive@nhs.net", PASSWORD)
        waiting = olive.locator("section[aria-labelledby=waiting-heading]")
        assert "Nothing is waiting for you" not in waiting.inner_text()
        waiting.get_by_role("link", name="1 request to join").click()
        assert "Sam Singh" in olive.locator("main").inner_text()
        olive.get_by_label("Reason for declining (the person will see it)").fill(
            "Birch Trust is for our own staff."
        )
        olive.get_by_role("button", name="Decline Sam Singh").click()
        assert "You declined Sam Singh's request to join." in olive.locator("main").inner_text()

        visitor.goto(url(live_server, host, "/accounts/login/"))
        visitor.get_by_label("Email address").fill("sam@example.org")
        visitor.get_by_label("Password").fill(PASSWORD)
        visitor.get_by_role("button", name="Sign in").click()
        told = visitor.locator("main").inner_text()
        assert "Your request to join Birch Trust was declined." in told
        assert "Birch Trust is for our own staff." in told
        assert "Please enter a correct email" not in told
        screenshot(visitor, "joining-declined-sign-in")
    finally:
        olive.context.close()
        visitor.context.close()

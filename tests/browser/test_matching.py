"""Matching in Chromium: the poster of a request finds the members whose skills match it
on the request's page and invites one by keyboard alone; the invited member is told, with
a link to the request. The page and the notification settings have no serious axe
violations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django_tenants.utils import tenant_context

from core.listings.models import ResponseInvitation
from core.listings.services import listing_create
from tests.browser.conftest import axe_scan, screenshot, sign_in, tab_to, unlabelled_controls, url
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"


def _serious(found: dict[str, Any]) -> dict[str, list[str]]:
    return {
        name: [v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}]
        for name, result in found.items()
    }


def test_the_poster_invites_a_matched_member_by_keyboard(
    live_server: LiveServer,
    page: Page,
    make_network: Callable[..., Network],
    make_member: Callable[..., Member],
) -> None:
    network = make_network("rowan", "Rowan Trust")
    host = host_of(network)
    poster = make_member(network, email="pat@nhs.net", full_name="Pat Poster", password=PASSWORD)
    make_member(
        network,
        email="rae@nhs.net",
        full_name="Rae Runcharts",
        skills=["run charts"],
        profession="nurse",
        organisation="Rowan Hospital",
    )
    with tenant_context(network):
        request = listing_create(
            actor=poster,
            kind="request",
            category="data",
            title="Run charts for our falls data",
            description="Someone who knows run charts, please.",
        )
    sign_in(page, live_server, host, "pat@nhs.net", PASSWORD)
    page.goto(url(live_server, host, f"/listings/{request.pk}/"))
    assert page.get_by_role("heading", name="People whose skills match").is_visible()
    assert "Skills this request mentions: Run charts" in page.inner_text("#matches")
    found = {"request with matches": axe_scan(page)}
    unlabelled = {"request with matches": unlabelled_controls(page)}
    screenshot(page, "request-matches")
    tab_to(page, "#matches button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Rae Runcharts is invited to respond." in page.inner_text("main")
    found["request after inviting"] = axe_scan(page)
    page.goto(url(live_server, host, "/notifications/settings/"))
    found["notification settings"] = axe_scan(page)
    unlabelled["notification settings"] = unlabelled_controls(page)
    assert _serious(found) == {name: [] for name in found}
    assert unlabelled == {name: [] for name in unlabelled}
    with tenant_context(network):
        assert ResponseInvitation.objects.filter(listing=request).count() == 1

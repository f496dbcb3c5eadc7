"""Welsh in a real Chromium: a member switches to Cymraeg at the foot of the page, sees the
home page and the listings in Welsh, and keeps Welsh through signing out and in again on
a browser that has forgotten the cookie; a network whose organiser chose Welsh serves it to
a signed-out visitor, while another network stays English. The Welsh pages pass axe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.listings.services import listing_create
from core.members.models import Role
from tests.browser.conftest import axe_scan, screenshot, url
from theming.models import DEFAULT_ACCENT, DEFAULT_PRIMARY
from theming.services import theme_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"


@pytest.fixture
def networks(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Network]:
    english = make_network("afon", "Afon Health")
    welsh = make_network("cwm", "Cwm Taf Timebank")
    make_member(english, email="mair@nhs.net", full_name="Mair Morgan", password=PASSWORD)
    poster = make_member(english, full_name="Huw Hughes")
    organiser = make_member(welsh, full_name="Olwen Owen", role=Role.ORGANISER)
    with tenant_context(english):
        listing_create(
            actor=poster,
            kind="offer",
            title="Sepsis teaching",
            category="teaching",
            description="An hour on spotting sepsis early.",
        )
    theme_update(
        network=welsh,
        actor=organiser,
        primary_colour=DEFAULT_PRIMARY,
        accent_colour=DEFAULT_ACCENT,
        default_language="cy",
    )
    return english, welsh


def serious(page: Page) -> list[tuple[str, str]]:
    return [
        (v["id"], v["help"])
        for v in axe_scan(page)["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def sign_in_welsh_or_english(page: Page, live_server: LiveServer, host: str) -> None:
    page.goto(url(live_server, host, "/accounts/login/"))
    page.locator("input[name=username]").fill("mair@nhs.net")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(url(live_server, host, "/"))


def test_a_member_switches_to_welsh_and_keeps_it(
    live_server: LiveServer, page: Page, networks: tuple[Network, Network]
) -> None:
    host = "afon.localhost"
    sign_in_welsh_or_english(page, live_server, host)
    assert page.locator("html").get_attribute("lang") == "en-gb"
    assert page.get_by_role("heading", level=1).inner_text() == "Hello Mair"

    page.get_by_label("Language").select_option("cy")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_url(url(live_server, host, "/"))
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text() == "Helo Mair"
    assert page.get_by_role("link", name="Cynigion a cheisiadau").count() >= 1
    assert page.get_by_label("Iaith").input_value() == "cy"
    assert serious(page) == []
    screenshot(page, "welsh-home")

    page.get_by_role("link", name="Cynigion a cheisiadau").first.click()
    page.wait_for_url(url(live_server, host, "/listings/"))
    assert page.get_by_role("heading", level=1).inner_text() == "Cynigion a cheisiadau"
    assert "Sepsis teaching" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Chwilio").count() >= 1
    assert serious(page) == []
    screenshot(page, "welsh-listings")

    page.get_by_role("button", name="Allgofnodi").click()
    page.wait_for_url(url(live_server, host, "/"))
    assert page.locator("html").get_attribute("lang") == "cy"  # the cookie
    assert "Mewngofnodi" in page.locator("main").inner_text()

    page.context.clear_cookies()  # another browser: only the profile remembers
    page.goto(url(live_server, host, "/"))
    assert page.locator("html").get_attribute("lang") == "en-gb"
    sign_in_welsh_or_english(page, live_server, host)
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text() == "Helo Mair"


def test_a_welsh_network_greets_visitors_in_welsh_and_an_english_one_does_not(
    live_server: LiveServer, page: Page, networks: tuple[Network, Network]
) -> None:
    page.goto(url(live_server, "cwm.localhost", "/"))
    assert page.locator("html").get_attribute("lang") == "cy"
    assert page.get_by_role("heading", level=1).inner_text() == "Croeso i Cwm Taf Timebank"
    assert page.get_by_role("heading", name="Sut mae'n gweithio").count() == 1
    assert serious(page) == []
    screenshot(page, "welsh-network-visitor")

    page.goto(url(live_server, "afon.localhost", "/"))
    assert page.locator("html").get_attribute("lang") == "en-gb"
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome to Afon Health"
    assert page.get_by_role("heading", name="How it works").count() == 1

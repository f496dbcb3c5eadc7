"""The pages as a person sees them: branding, accessibility, keyboard use."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Permission
from django_tenants.utils import tenant_context

from ledger.services import gift_grant
from tests.browser.conftest import screenshot
from theming.services import theme_update

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"


def _url(live_server: Any, host: str, path: str = "/") -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture
def two_networks(make_network, make_member):
    purple = make_network("purple", "Purple Trust")
    blue = make_network("blue", "Blue ICS")
    organiser = make_member(purple, email="olivia@nhs.net", full_name="Olivia Organiser",
                            password=PASSWORD)  # fmt: skip
    with tenant_context(purple):
        organiser.user_permissions.add(
            *Permission.objects.filter(codename__in=["change_theme", "view_network_totals"])
        )
        gift_grant(member=organiser)
    theme_update(
        network=purple, actor=organiser, primary_colour="#552d62", accent_colour="#2f6b3a",
        welcome_headline="Purple Trust learns together",
    )  # fmt: skip
    return purple, blue, organiser


def _sign_in(page: Any, live_server: Any, host: str) -> None:
    page.goto(_url(live_server, host, "/accounts/login/"))
    page.get_by_label("Email address").fill("olivia@nhs.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(_url(live_server, host, "/"))


def test_each_network_renders_in_its_own_colours(live_server, page, two_networks):
    colours = {}
    for host in ("purple.localhost", "blue.localhost"):
        page.goto(_url(live_server, host))
        colours[host] = page.eval_on_selector(
            ".site-header", "e => getComputedStyle(e).backgroundColor"
        )
        screenshot(page, f"network-home-{host.split('.')[0]}")
    assert colours == {
        "purple.localhost": "rgb(85, 45, 98)",  # #552d62, the purple network's theme
        "blue.localhost": "rgb(0, 94, 184)",  # #005eb8, the default
    }
    assert page.locator("h1").inner_text() == "Welcome to Blue ICS"


def test_main_pages_have_no_serious_accessibility_violations(live_server, page, two_networks):
    axe = Axe()
    pages = {"network home": "/", "sign in": "/accounts/login/"}
    signed_in = {
        "credit statement": "/ledger/statement/",
        "network totals": "/ledger/totals/",
        "notifications": "/notifications/",
        "email settings": "/notifications/settings/",
        "branding": "/settings/branding/",
    }
    found = {}
    for name, path in pages.items():
        page.goto(_url(live_server, "purple.localhost", path))
        found[name] = axe.run(page)
    page.goto(live_server.url + "/")
    found["public site"] = axe.run(page)
    _sign_in(page, live_server, "purple.localhost")
    for name, path in signed_in.items():
        page.goto(_url(live_server, "purple.localhost", path))
        screenshot(page, name.replace(" ", "-"))
        found[name] = axe.run(page)
    serious = {
        name: [(v["id"], v["impact"], v["help"]) for v in result.response["violations"]
               if v["impact"] in {"serious", "critical"}]
        for name, result in found.items()
    }  # fmt: skip
    assert all(result.response["passes"] for result in found.values())  # axe really ran
    assert serious == {name: [] for name in found}


def test_keyboard_alone_reaches_every_form_control(live_server, page, two_networks):
    _sign_in(page, live_server, "purple.localhost")
    page.goto(_url(live_server, "purple.localhost", "/settings/branding/"))
    controls = page.eval_on_selector_all(
        "main input:not([type=hidden]), main textarea, main select, main button",
        "els => els.map(e => e.id || e.name || e.textContent.trim())",
    )
    reached: list[str] = []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate("(e => e.id || e.name || e.textContent.trim())(document.activeElement)")
        )
    assert controls, "the page has no form controls to reach"
    assert set(controls) <= set(reached)


def test_the_branding_preview_follows_the_colour_as_it_is_typed(live_server, page, two_networks):
    _sign_in(page, live_server, "purple.localhost")
    page.goto(_url(live_server, "purple.localhost", "/settings/branding/"))
    page.get_by_label("Main colour (header and links)").fill("#7fbfff")
    assert "below 4.5:1" in page.locator("#preview-contrast").inner_text()
    header = page.eval_on_selector(".preview-header", "e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(127, 191, 255)"
    page.get_by_role("button", name="Save branding").click()
    assert "There is a problem" in page.locator(".error-summary").inner_text()
    screenshot(page, "branding-refused")

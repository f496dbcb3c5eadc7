"""The pages as a person sees them: branding, accessibility, keyboard use."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.listings.services import listing_create
from core.members.models import Role
from ledger.federation.services import federation_membership_set, federation_partner_add
from ledger.services import gift_grant
from tests.browser.conftest import (
    axe_scan,
    focus_problem,
    screenshot,
    sign_in,
    tab_to,
    unlabelled_controls,
    url,
)
from tests.conftest import upgrade
from theming.services import theme_update

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.exchanges.models import Exchange
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
SLUG_HINT = (
    "Lowercase letters, digits and hyphens. Your network will live at "
    f"<address>.{settings.HEXITIME_BASE_DOMAIN}."
)


@pytest.fixture
def two_networks(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Network, Member]:
    purple = make_network("purple", "Purple Trust")
    blue = make_network("blue", "Blue ICS")
    organiser = make_member(
        purple,
        email="olivia@nhs.net",
        full_name="Olivia Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
    )
    with tenant_context(purple):
        gift_grant(member=organiser)
    theme_update(
        network=purple,
        actor=organiser,
        primary_colour="#552d62",
        accent_colour="#2f6b3a",
        welcome_headline="Purple Trust learns together",
        welcome_text="Staff across Purple Trust teach each other, one hour at a time.",
        footer_links=[{"label": "Accessibility statement", "url": "https://example.org/a11y"}],
    )
    return purple, blue, organiser


@pytest.fixture
def exchanges(
    two_networks: tuple[Network, Network, Member], make_member: Callable[..., Member]
) -> dict[str, str]:
    """Olivia's exchanges in purple, one per state a page shows differently, and a listing
    that blue (a partner network) shares with purple. Returns the pages to open, as Olivia."""
    purple, blue, olivia = two_networks
    ada = make_member(purple, email="ada@nhs.net", full_name="Ada Adams")
    bob = make_member(purple, email="bob@nhs.net", full_name="Bob Brown")
    with tenant_context(purple):
        for member in (ada, bob):
            gift_grant(member=member)
        # Bob answers Olivia's offer: she may accept or decline.
        responded = x.exchange_respond(
            actor=bob, listing=_listing(olivia, "offer", "QI coaching"), message="Can we meet?"
        )
        # Ada helps Olivia with her request and records the hours: Olivia may confirm.
        recorded = _to_recorded(_listing(olivia, "request", "Help with run charts"), ada, olivia)
        # Olivia helps Bob; he confirms: she may say thank you.
        completed = _to_recorded(_listing(olivia, "offer", "Teaching sessions"), olivia, bob)
        x.exchange_confirm(actor=bob, exchange=completed)
        # Ada helps Bob; he disputes the hours: Olivia, an organiser, settles it.
        disputed = _to_recorded(_listing(ada, "offer", "Shadowing in ED"), ada, bob)
        x.exchange_dispute(actor=bob, exchange=disputed, reason="We met for half an hour")
    upgrade(purple, blue)
    for network in (purple, blue):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=600)
    federation_partner_add(network=purple, partner=blue, actor=None)
    federation_partner_add(network=blue, partner=purple, actor=None)
    ben = make_member(blue, email="ben@nhs.net", full_name="Ben Blue")
    with tenant_context(blue):
        gift_grant(member=ben)
        shared = _listing(ben, "offer", "Data dashboards", visibility="partners")
        partner = x.exchange_respond(
            actor=olivia, listing=shared, message="Could you show me?", actor_network=purple
        )
    return {
        "your exchanges": "/exchanges/",
        "exchange answered": f"/exchanges/{responded.pk}/",
        "exchange hours recorded": f"/exchanges/{recorded.pk}/",
        "exchange completed": f"/exchanges/{completed.pk}/",
        "exchange disputed": f"/exchanges/{disputed.pk}/",
        "exchanges for organisers": "/exchanges/organiser/",
        "partner listing": f"/exchanges/partner/blue/listings/{shared.pk}/",
        "partner exchange": f"/exchanges/partner/blue/{partner.pk}/",
    }


def _listing(owner: Member, kind: str, title: str, **fields: Any) -> Listing:
    return listing_create(
        actor=owner,
        kind=kind,
        title=title,
        category="coaching",
        description=f"{title}, an hour at a time.",
        **fields,
    )


def _to_recorded(listing: Listing, giver: Member, receiver: Member) -> Exchange:
    """An exchange on `listing` walked up to an hour recorded by the giver."""
    owner, other = (giver, receiver) if listing.kind == "offer" else (receiver, giver)
    exchange = x.exchange_respond(actor=other, listing=listing, message="Happy to")
    x.exchange_accept(actor=owner, exchange=exchange)
    met_on = timezone.localdate() - datetime.timedelta(days=2)
    return x.exchange_record_hours(actor=giver, exchange=exchange, minutes=60, met_on=met_on)


def _sign_in(page: Page, live_server: LiveServer, host: str) -> None:
    sign_in(page, live_server, host, "olivia@nhs.net", PASSWORD)


def _serious(found: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    """The serious and critical violations axe found on each page (all, for the report)."""
    assert all(result["testEngine"]["name"] == "axe-core" for result in found.values())
    return {
        name: [
            (v["id"], v["impact"], v["help"])
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        for name, result in found.items()
    }


def test_each_network_renders_in_its_own_colours(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member]
) -> None:
    colours = {}
    for host in ("purple.localhost", "blue.localhost"):
        page.goto(url(live_server, host))
        colours[host] = page.eval_on_selector_all(
            ".site-header, main .button:not(.secondary)",
            "els => els.map(e => getComputedStyle(e).backgroundColor)",
        )
        screenshot(page, f"landing-{host.split('.')[0]}")
    assert colours == {
        # #552d62 and #2f6b3a, the purple network's theme
        "purple.localhost": ["rgb(85, 45, 98)", "rgb(47, 107, 58)"],
        # #005eb8 and #007f3b, the defaults
        "blue.localhost": ["rgb(0, 94, 184)", "rgb(0, 127, 59)"],
    }
    assert page.locator("h1").inner_text() == "Welcome to Blue ICS"
    page.goto(url(live_server, "purple.localhost"))
    assert page.locator("h1").inner_text() == "Purple Trust learns together"
    assert "one hour at a time" in page.locator("main").inner_text()


def test_main_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member]
) -> None:
    pages = {
        "landing": "/",
        "sign in": "/accounts/login/",
        "join": "/join/",
        "privacy": "/privacy/",
        "accessibility statement": "/accessibility/",
    }
    signed_in = {
        "member home": "/",
        "offers and requests": "/listings/",
        "new listing": "/listings/new/",
        "credit statement": "/ledger/statement/",
        "network totals": "/ledger/totals/",
        "notifications": "/notifications/",
        "email settings": "/notifications/settings/",
        "branding": "/settings/branding/",
        "accessibility settings": "/settings/accessibility/",
        "edit profile": "/members/profile/edit/",
        "members and roles": "/members/roles/",
        "requests to join": "/members/approvals/",
        "how people join": "/members/join-settings/",
        "account and data": "/account/",
        "close account": "/account/close/",
        "audit log": "/audit/",
    }
    found = {}
    unlabelled = {}
    for name, path in pages.items():
        page.goto(url(live_server, "purple.localhost", path))
        found[name] = axe_scan(page)
        unlabelled[name] = unlabelled_controls(page)
    public = {
        "public site": "/",
        "start a network": "/start/",
        "public accessibility statement": "/accessibility/",
    }
    for name, path in public.items():
        page.goto(url(live_server, settings.HEXITIME_BASE_DOMAIN, path))
        found[name] = axe_scan(page)
        screenshot(page, name.replace(" ", "-"))
    page.goto(live_server.url + "/")  # an address that is no network
    found["no such network"] = axe_scan(page)
    _sign_in(page, live_server, "purple.localhost")
    for name, path in signed_in.items():
        page.goto(url(live_server, "purple.localhost", path))
        screenshot(page, name.replace(" ", "-"))
        found[name] = axe_scan(page)
        unlabelled[name] = unlabelled_controls(page)
    assert _serious(found) == {name: [] for name in found}
    assert unlabelled == {name: [] for name in unlabelled}


def test_exchange_pages_have_no_serious_accessibility_violations(
    live_server: LiveServer, page: Page, exchanges: dict[str, str]
) -> None:
    _sign_in(page, live_server, "purple.localhost")
    found = {}
    unlabelled = {}
    for name, path in exchanges.items():
        page.goto(url(live_server, "purple.localhost", path))
        assert page.locator("h1").count() == 1, name
        # Scan what folded sections (<details>) hold too.
        page.eval_on_selector_all("main details", "els => els.forEach(e => { e.open = true })")
        screenshot(page, name.replace(" ", "-"))
        found[name] = axe_scan(page)
        unlabelled[name] = unlabelled_controls(page)
    # A form sent back with errors: the summary at the top links to the field.
    page.goto(url(live_server, "purple.localhost", exchanges["exchange disputed"]))
    page.get_by_role("button", name="Settle").click()
    summary = page.locator(".error-summary")
    assert "There is a problem" in summary.inner_text()
    for target in summary.get_by_role("link").evaluate_all("els => els.map(e => e.hash)"):
        assert page.locator(f"main {target}").count() == 1, target
    screenshot(page, "exchange-settle-refused")
    found["exchange settle refused"] = axe_scan(page)
    assert _serious(found) == {name: [] for name in found}
    assert unlabelled == {name: [] for name in unlabelled}


@pytest.mark.parametrize(
    "path", ["/settings/branding/", "/listings/new/", "/members/profile/edit/"]
)
def test_keyboard_alone_reaches_every_form_control(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member], path: str
) -> None:
    _sign_in(page, live_server, "purple.localhost")
    page.goto(url(live_server, "purple.localhost", path))
    _assert_keyboard_reaches_every_control(page)


@pytest.mark.parametrize(
    "name",
    [
        "exchange answered",
        "exchange hours recorded",
        "exchange completed",
        "exchange disputed",
        "exchanges for organisers",
        "partner listing",
    ],
)
def test_keyboard_alone_reaches_every_control_on_exchange_pages(
    live_server: LiveServer, page: Page, exchanges: dict[str, str], name: str
) -> None:
    _sign_in(page, live_server, "purple.localhost")
    page.goto(url(live_server, "purple.localhost", exchanges[name]))
    _assert_keyboard_reaches_every_control(page)


def _assert_keyboard_reaches_every_control(page: Page) -> None:
    # Tab reaches a radio group once (arrow keys move within it), so a radio counts as
    # its group.
    describe = (
        "e => e.type === 'radio' ? 'group ' + e.name : e.id || e.name || e.textContent.trim()"
    )
    controls = page.eval_on_selector_all(
        "main input:not([type=hidden]), main textarea, main select, main button",
        f"els => els.map({describe})",
    )
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    reached: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        reached.append(page.evaluate(f"({describe})(document.activeElement)"))
        # Every focused element shows where it is, clearly enough; past the last one,
        # focus leaves the page for the browser's own controls (the body is active).
        if not page.evaluate("document.activeElement === document.body"):
            assert focus_problem(page) is None, f"{reached[-1]}: {focus_problem(page)}"
        # A folded section (<details>) opens with Enter, showing the controls inside it.
        if page.evaluate(
            "document.activeElement.tagName === 'SUMMARY'"
            " && !document.activeElement.parentElement.open"
        ):
            page.keyboard.press("Enter")
    assert controls, "the page has no form controls to reach"
    assert set(controls) <= set(reached)


@pytest.mark.parametrize("width", [390, 320])
def test_on_a_phone_the_links_fold_behind_a_menu_button(
    live_server: LiveServer,
    browser: WatchedBrowser,
    two_networks: tuple[Network, Network, Member],
    width: int,
) -> None:
    """The header keeps to one row; the Menu button opens the links from the keyboard, and
    without script too."""
    for script in (True, False):
        context = browser.new_context(
            viewport={"width": width, "height": 844}, java_script_enabled=script
        )
        phone = context.new_page()
        try:
            _sign_in(phone, live_server, "purple.localhost")
            header = phone.eval_on_selector(".site-header", "e => e.getBoundingClientRect().height")
            assert header <= 100, f"the header takes {header}px of {width}px"
            link = phone.get_by_role("navigation", name="Main").get_by_role(
                "link", name="Offers and requests"
            )
            assert link.is_hidden()
            if script:
                tab_to(phone, "summary")
                assert focus_problem(phone) is None
                phone.keyboard.press("Enter")
            else:
                phone.get_by_text("Menu", exact=True).click()
            assert link.is_visible()
            screenshot(phone, f"menu-open-{width}{'' if script else '-no-javascript'}")
            link.click()
            assert phone.locator("h1").inner_text() == "Offers and requests"
        finally:
            context.close()


def test_on_a_wide_screen_the_links_show_without_a_menu_button(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member]
) -> None:
    _sign_in(page, live_server, "purple.localhost")
    assert page.get_by_text("Menu", exact=True).is_hidden()
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Offers and requests"
    ).click()
    assert page.locator("h1").inner_text() == "Offers and requests"


def test_start_page_hints_and_errors_describe_their_fields(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member]
) -> None:
    """Sent empty, each field names its hint and error in aria-describedby, and they exist:
    a screen reader reads them with the field."""
    page.goto(url(live_server, settings.HEXITIME_BASE_DOMAIN, "/start/"))
    page.get_by_role("button", name="Start my network").click()
    described = page.eval_on_selector_all(
        "main form [aria-invalid=true]",
        """els => Object.fromEntries(els.map(e => [e.id,
          (e.getAttribute("aria-describedby") || "").split(" ").filter(Boolean)
            .map(id => document.getElementById(id)?.textContent.trim())]))""",
    )
    required = ["Error: This field is required."]
    assert described == {
        "id_name": required,
        "id_slug": [SLUG_HINT, *required],
        "id_organiser_name": required,
        "id_organiser_email": required,
        "id_organiser_password": required,
    }


def test_the_skip_link_moves_focus_to_the_main_content(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member]
) -> None:
    page.goto(url(live_server, "purple.localhost"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_branding_preview_measures_colours_as_they_are_typed(
    live_server: LiveServer, page: Page, two_networks: tuple[Network, Network, Member]
) -> None:
    _sign_in(page, live_server, "purple.localhost")
    page.goto(url(live_server, "purple.localhost", "/settings/branding/"))
    # A colour picker starts at the saved colour; picking one types it into the text box.
    picker = page.get_by_label("Pick the main colour")
    assert picker.get_attribute("type") == "color"
    assert picker.input_value() == "#552d62"
    picker.fill("#7fbfff")
    assert page.get_by_label("Main colour (header and links)").input_value() == "#7fbfff"
    # htmx asks the server, which measures with the rule that saving applies.
    contrast = page.locator("#preview-contrast")
    contrast.get_by_text("contrast ratio of 1.8:1").wait_for()
    header = page.eval_on_selector(".preview-header", "e => getComputedStyle(e).backgroundColor")
    assert header == "rgb(127, 191, 255)"
    screenshot(page, "branding-preview")
    page.get_by_role("button", name="Save branding").click()
    summary = page.locator(".error-summary")
    assert "There is a problem" in summary.inner_text()
    assert page.evaluate("document.activeElement.className") == "error-summary"
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_primary_colour"
    # Typing a whole colour into the box moves the picker too.
    page.get_by_label("Main colour (header and links)").fill("#1d4f91")
    assert page.get_by_label("Pick the button colour").input_value() == "#2f6b3a"
    assert picker.input_value() == "#1d4f91"
    screenshot(page, "branding-refused")


def test_pages_fit_a_phone_screen(
    live_server: LiveServer, browser: WatchedBrowser, exchanges: dict[str, str]
) -> None:
    """Touch targets are large enough. (The `browser` fixture checks that no page is wider
    than the screen, for every page.)"""
    context = browser.new_context(viewport={"width": 360, "height": 740})
    phone = context.new_page()
    pages = {
        "home": "/",
        "branding": "/settings/branding/",
        "new listing": "/listings/new/",
        "credit statement": "/ledger/statement/",
        "members and roles": "/members/roles/",
        **exchanges,
    }
    # Controls are large touch targets: text boxes, lists and buttons 44px high, radios and
    # checkboxes 24px (in 44px rows), WCAG 2.2's minimum.
    small = """els => els.filter(e => e.offsetParent !== null).filter(e =>
        e.getBoundingClientRect().height < (['radio', 'checkbox'].includes(e.type) ? 24 : 44)
    ).map(e => (e.id || e.name || e.textContent.trim()) + ' ' + e.getBoundingClientRect().height)
    """
    try:
        _sign_in(phone, live_server, "purple.localhost")
        too_small = {}
        for name, path in pages.items():
            phone.goto(url(live_server, "purple.localhost", path))
            phone.eval_on_selector_all("main details", "els => els.forEach(e => { e.open = true })")
            screenshot(phone, f"phone-{name.replace(' ', '-')}")
            too_small[name] = phone.eval_on_selector_all(
                "main input:not([type=hidden]), main select, main textarea, main button", small
            )
        assert too_small == {name: [] for name in pages}
    finally:
        context.close()


def test_branding_works_without_javascript(
    live_server: LiveServer, browser: WatchedBrowser, two_networks: tuple[Network, Network, Member]
) -> None:
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    try:
        _sign_in(plain, live_server, "purple.localhost")
        plain.goto(url(live_server, "purple.localhost", "/settings/branding/"))
        assert plain.get_by_label("Pick the main colour").is_hidden()  # it needs script
        plain.get_by_label("Main colour (header and links)").fill("#eeeeee")
        plain.get_by_role("button", name="Save branding").click()
        assert "There is a problem" in plain.locator(".error-summary").inner_text()
        plain.get_by_label("Main colour (header and links)").fill("#1d4f91")
        plain.get_by_role("button", name="Save branding").click()
        assert "branding is saved" in plain.locator(".messages").inner_text()
        plain.wait_for_load_state("load")  # the new stylesheet, not just the new HTML
        header = plain.eval_on_selector(".site-header", "e => getComputedStyle(e).backgroundColor")
        assert header == "rgb(29, 79, 145)"  # the new stylesheet version, no cache to clear
    finally:
        context.close()


def test_an_exchange_moves_on_without_javascript(
    live_server: LiveServer, browser: WatchedBrowser, exchanges: dict[str, str]
) -> None:
    """Every exchange form is a plain POST: accepting, suggesting a time (refused, then
    sent) and confirming hours, whose credit shows on the home page."""
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    try:
        _sign_in(plain, live_server, "purple.localhost")
        balance = plain.locator("section[aria-labelledby=credit-heading] .balance")
        assert balance.inner_text() == "You have 3 hours of credit."
        plain.goto(url(live_server, "purple.localhost", exchanges["exchange answered"]))
        plain.get_by_role("button", name="Accept").click()
        assert "You accepted." in plain.locator(".messages").inner_text()
        yesterday = timezone.localtime() - datetime.timedelta(days=1)
        plain.get_by_label("Date and time").fill(yesterday.strftime("%Y-%m-%dT09:00"))
        plain.get_by_label("Where", exact=True).fill("Library, first floor")
        plain.get_by_role("button", name="Send suggestion").click()
        summary = plain.locator(".error-summary")
        assert "Suggest a time in the future." in summary.inner_text()
        assert summary.get_by_role("link").get_attribute("href") == "#id_propose_starts_at"
        tomorrow = timezone.localtime() + datetime.timedelta(days=1)
        plain.get_by_label("Date and time").fill(tomorrow.strftime("%Y-%m-%dT09:00"))
        plain.get_by_role("button", name="Send suggestion").click()
        assert "Your suggestion is sent." in plain.locator(".messages").inner_text()
        assert "Waiting for Bob Brown to answer" in plain.locator("main").inner_text()

        plain.goto(url(live_server, "purple.localhost", exchanges["exchange hours recorded"]))
        plain.get_by_role("button", name="Confirm the hours").click()
        assert "the credit has moved" in plain.locator(".messages").inner_text()
        plain.get_by_role("link", name="Purple Trust").click()
        assert balance.inner_text() == "You have 2 hours of credit."
        screenshot(plain, "no-javascript-hours-confirmed")
    finally:
        context.close()

"""The installable app in Chromium: each network's manifest, the service worker controlling
the page, the offline page without a connection, and a push delivered to a subscribed
browser through a local push service (tests/push_local.py)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from django_tenants.utils import tenant_context

from core.notifications.models import Kind, PushSubscription
from core.notifications.push import vapid_keys_generate
from core.notifications.services import notification_send
from tests.browser.conftest import axe_scan, csp_refusals, screenshot, sign_in, url
from tests.push_local import Browser, PushService

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django import Settings
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
TEAL, PLUM = "teal.localhost", "plum.localhost"


@pytest.fixture
def networks(
    make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> tuple[Network, Network, Member]:
    teal = make_network("teal", "Teal Trust")
    plum = make_network("plum", "Plum Partnership Network")
    alice = make_member(teal, email="alice@nhs.net", full_name="Alice Adeyemi", password=PASSWORD)
    return teal, plum, alice


def _controlled(page: Page) -> None:
    """Wait until the service worker is active and controls the page."""
    page.evaluate("navigator.serviceWorker.ready")
    if not page.evaluate("Boolean(navigator.serviceWorker.controller)"):
        page.wait_for_function("Boolean(navigator.serviceWorker.controller)", timeout=10_000)


def _fetch(page: Page, path: str | None) -> dict[str, Any]:
    """`path` fetched by the page itself (Chromium resolves *.localhost; Playwright's own
    requests do not): status, content type, and the body's JSON when it is JSON."""
    return page.evaluate(
        """path => fetch(path).then(async r => ({status: r.status,
             type: r.headers.get("content-type"),
             json: r.headers.get("content-type").includes("json") ? await r.json() : null}))""",
        path,
    )


def test_each_network_installs_as_its_own_app(
    live_server: LiveServer, page: Page, networks: tuple[Network, Network, Member]
) -> None:
    manifests = {}
    for host in (TEAL, PLUM):
        page.goto(url(live_server, host, "/accounts/login/"))
        response = _fetch(page, page.get_attribute("link[rel=manifest]", "href"))
        assert response["type"] == "application/manifest+json"
        manifest = response["json"]
        for field in ("name", "short_name", "start_url", "display", "theme_color", "icons"):
            assert manifest[field], field
        for icon in manifest["icons"]:
            assert _fetch(page, icon["src"])["type"] == "image/png"
            assert _fetch(page, icon["src"])["status"] == 200
        touch = page.get_attribute("link[rel=apple-touch-icon]", "href")
        assert _fetch(page, touch)["status"] == 200
        assert page.get_attribute("meta[name=apple-mobile-web-app-capable]", "content") == "yes"
        manifests[host] = manifest
    assert manifests[TEAL]["name"] == "Teal Trust"
    assert manifests[PLUM]["name"] == "Plum Partnership Network"
    assert manifests[PLUM]["short_name"] == "Plum Partner"


def test_the_service_worker_controls_the_page_and_shows_the_offline_page(
    live_server: LiveServer, browser: WatchedBrowser, networks: tuple[Network, Network, Member]
) -> None:
    context = browser.new_context()
    page = context.new_page()
    refused = csp_refusals(page)
    sign_in(page, live_server, TEAL, "alice@nhs.net", PASSWORD)
    _controlled(page)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    context.set_offline(True)
    page.goto(url(live_server, TEAL, "/listings/"))
    assert page.get_by_role("heading", level=1).inner_text() == "You are offline"
    assert page.get_by_role("heading", name="What works without a connection").is_visible()
    # Its stylesheets came from the cache too: the page is styled, not bare.
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    screenshot(page, "offline")
    context.set_offline(False)
    page.goto(url(live_server, TEAL, "/listings/"))
    assert page.get_by_role("heading", level=1).inner_text() != "You are offline"
    # axe comes from the server, so the page is checked online.
    page.goto(url(live_server, TEAL, "/offline/"))
    result = axe_scan(page)
    assert [v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}] == []
    context.close()
    assert refused == []


def test_a_push_reaches_the_subscribed_browser_and_shows_a_notification(
    live_server: LiveServer,
    browser: WatchedBrowser,
    networks: tuple[Network, Network, Member],
    worker: None,
    settings: Settings,
) -> None:
    teal, _plum, alice = networks
    private, public = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY, settings.WEBPUSH_VAPID_PUBLIC_KEY = private, public
    origin = url(live_server, TEAL, "").rstrip("/")
    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=origin)
    page = context.new_page()
    refused = csp_refusals(page)
    sign_in(page, live_server, TEAL, "alice@nhs.net", PASSWORD)
    page.goto(url(live_server, TEAL, "/notifications/settings/"))
    _controlled(page)
    on = page.get_by_role("button", name="Turn on notifications in this browser")
    on.wait_for()
    result = axe_scan(page)
    assert [v["id"] for v in result["violations"] if v["impact"] in {"serious", "critical"}] == []
    with PushService() as push:
        settings.WEBPUSH_EXTRA_ORIGINS = [push.origin]
        # Chromium's own subscription needs Google's push servers, which the tests cannot
        # reach: the page's call fails and says so. The subscription is then made as the
        # page makes it (its JSON, posted with the member's session and CSRF token), with
        # keys this test holds, so it can decrypt what the push service receives.
        on.click()
        status = page.get_by_role("status")
        status.filter(has_text="did not work").wait_for()
        keys = Browser()
        posted = page.evaluate(
            """([api, body]) => fetch(api, {method: "POST", body: JSON.stringify(body),
                 headers: {"Content-Type": "application/json", "X-CSRFToken":
                   document.querySelector("[name=csrfmiddlewaretoken]").value}})
               .then(r => r.status)""",
            [
                "/api/v1/notifications/push-subscriptions/",
                {"endpoint": push.endpoint("alice"), "keys": keys.keys()},
            ],
        )
        assert posted == 201
        with tenant_context(teal):
            assert PushSubscription.objects.get().member_id == alice.pk
            notification_send(
                recipient=alice,
                kind=Kind.RESPONSE_ACCEPTED,
                key="e:1",
                title="Your response was accepted",
                body="Ben accepted your offer.",
                url="/exchanges/",
            )
        received = push.wait_for(1)
    assert push.rejected == []
    payload = keys.decrypt(received[0].body)
    assert payload == {
        "title": "Your response was accepted",
        "body": "Ben accepted your offer.",
        "url": "/exchanges/",
    }
    # What the push service would hand the browser, handed to its service worker.
    cdp = context.new_cdp_session(page)
    registration = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    versions: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: versions.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 5
    while (
        not [v for v in versions if v["scopeURL"] == registration] and time.monotonic() < deadline
    ):
        page.wait_for_timeout(50)
    registration_id = next(v for v in versions if v["scopeURL"] == registration)["registrationId"]
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": origin,
            "registrationId": registration_id,
            "data": json.dumps(payload),
        },
    )
    shown, deadline = None, time.monotonic() + 10
    while not shown and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = page.evaluate("""navigator.serviceWorker.ready.then(r => r.getNotifications())
            .then(all => all.map(n => [n.title, n.body, n.data.url]))""")
    assert shown == [["Your response was accepted", "Ben accepted your offer.", "/exchanges/"]]
    context.close()
    assert refused == []

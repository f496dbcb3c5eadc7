"""Browser tests: Playwright drives Debian's Chromium against a live server of the app.

`hexitime test` installs Chromium from Debian when it is missing and it can (as root) and
builds the npm packages (htmx, axe-core) when they are missing; these fixtures build the
packages too, so a bare `pytest` works. Without Chromium the tests are skipped, saying
why. No browser is ever downloaded.

Networks live on subdomains: Chromium resolves `*.localhost` to the loopback address, so
the live server binds 127.0.0.1 on a free port in 8400-8499 and pages are opened at
`http://<slug>.localhost:<port>/`.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from django.templatetags.static import static
from pytest_django.live_server_helper import LiveServer

from hexitime.settings.env import REPO_ROOT
from theming.frontend import VENDOR, FrontendUnavailable, frontend_build, frontend_built

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts"
PORTS = range(8400, 8500)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499 for the browser tests' server")


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """pytest-django's live server (threaded, transactional), on a port in 8400-8499."""
    server = LiveServer(f"127.0.0.1:{_free_port()}")
    yield server
    server.stop()


def url(live_server: LiveServer, host: str, path: str = "/") -> str:
    port = live_server.url.rsplit(":", 1)[1]
    return f"http://{host}:{port}{path}"


@pytest.fixture(scope="session")
def frontend() -> Path:
    if not frontend_built():
        try:
            frontend_build()
        except FrontendUnavailable as missing:
            # Like Chromium: `make test` installs npm where it can (root with apt); on a
            # machine where it cannot, these tests are skipped, saying why.
            pytest.skip(f"the front-end packages could not be built: {missing}")
    return VENDOR


@pytest.fixture(scope="module")
def browser(frontend: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # to set up data are still synchronous and safe. Only while the browser is open, so no
    # other test (or process it starts) inherits the setting.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page of a fresh browser context. Every page the test visits is served with the
    Content-Security-Policy enforced, and the test fails if the browser reports that the
    policy refused anything (Chromium logs each refusal to the console)."""
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    refused = csp_refusals(page)
    yield page
    context.close()
    assert refused == []


def csp_refusals(page: Any) -> list[str]:
    """What the Content-Security-Policy refuses on `page` from now on (Chromium logs each
    refusal to the console); a test asserts the list stays empty."""
    refused: list[str] = []

    def note(message: Any) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", note)
    return refused


def axe_scan(page: Any) -> dict[str, Any]:
    """Run axe-core (from npm, see theming/frontend.py) on the page; its full results. The
    script is loaded from the app's own static files: the page's policy refuses inline
    script."""
    page.add_script_tag(url=urljoin(page.url, static("theming/vendor/axe.min.js")))
    return page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")


def unlabelled_controls(page: Any) -> list[str]:
    """Form controls the browser itself finds no label for. axe matches a label's `for` to
    any element with that id, so it misses the second of two controls sharing an id, whose
    label the browser gives to the first."""
    return page.eval_on_selector_all(
        "input:not([type=hidden]), textarea, select",
        "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label')"
        " && !e.getAttribute('aria-labelledby')).map(e => e.id || e.name)",
    )


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, live_server: LiveServer, host: str, email: str, password: str) -> None:
    page.goto(url(live_server, host, "/accounts/login/"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url(live_server, host, "/"))


def tab_to(page: Any, selector: str, presses: int = 60) -> None:
    """Press Tab until the focused element matches `selector`, as a keyboard user would.

    A keyboard user starts on a page that has arrived: after a click on a link, Playwright
    returns once the navigation commits, when the new document may still be empty (no
    body, so no element can have focus) and Tab presses go nowhere. Wait for it to load."""
    page.wait_for_load_state("load")
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{presses} presses of Tab never reached {selector}")

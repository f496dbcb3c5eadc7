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

import json
import os
import re
import shutil
import socket
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.templatetags.static import static
from pytest_django.live_server_helper import LiveServer

from hexitime.settings.env import REPO_ROOT
from theming.contrast import contrast_ratio
from theming.frontend import VENDOR, FrontendUnavailable, frontend_build, frontend_built
from theming.selectors import AXE_REPORT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = REPO_ROOT / "test-artifacts"
# In parallel each worker "gwN" probes its own tenth of the range, so two never pick one port.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
PORTS = range(8400 + 10 * (_WORKER % 10), 8410 + 10 * (_WORKER % 10))
# A desktop, a phone (iPhone 12 to 15) and the narrowest screen WCAG's reflow asks for.
WIDTHS = (1024, 390, 320)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(
        f"no free port in {PORTS.start}-{PORTS.stop - 1} for the browser tests' server"
    )


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
def chromium(frontend: Path) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # to set up data are still synchronous and safe. Only while the browser is open, so no
    # other test (or process it starts) inherits the setting.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def browser(chromium: Browser, transactional_db: None) -> Iterator[WatchedBrowser]:
    """The browser a test opens its contexts in. After the test, every page it loaded (with
    script on) is laid out again at each of `WIDTHS` and checked: the test fails if one is
    wider than the screen or names an id it does not hold (see `page_problems`). The
    database outlives it, so the pages' own stylesheets are still there."""
    watched = WatchedBrowser(chromium)
    yield watched
    problems = page_problems(chromium, watched.loaded)
    assert not problems, "\n".join(
        f"{page}: {'; '.join(found)}" for page, found in problems.items()
    )


@pytest.fixture
def page(browser: WatchedBrowser) -> Iterator[Page]:
    """A page of a fresh browser context. Every page the test visits is served with the
    Content-Security-Policy enforced, and the test fails if the browser reports that the
    policy refused anything (Chromium logs each refusal to the console)."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 768})
    page = context.new_page()
    refused = csp_refusals(page)
    yield page
    context.close()
    assert refused == []


# Each page hands its document to the test as it finishes loading: laid out again later, at
# each width, without script (its scripts have already run), it is checked as it was.
SEND_LOADED_PAGE = """addEventListener("load", () => window.hexitimePageLoaded(
  location.origin + location.pathname + location.search,
  "<!doctype html>" + document.documentElement.outerHTML));"""
# Ids that a label's `for` or an ARIA relation names but no element on the page holds.
MISSING_IDS = """() => {
  const attributes = ["for", "aria-describedby", "aria-labelledby"];
  return [...document.querySelectorAll(attributes.map(a => `[${a}]`).join(", "))]
    .flatMap(e => attributes.flatMap(attribute => (e.getAttribute(attribute) || "").split(/\\s+/)
      .filter(id => id && !document.getElementById(id))
      .map(id => `${e.tagName.toLowerCase()} ${attribute}="${id}"`)));
}"""
# What makes the page wider than the screen: the outermost elements reaching past its right
# edge, and the boxes that scroll sideways but are not a `.table-scroll` (which says so).
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  const name = e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + [...e.classList].map(c => "." + c).join("");
  const past = e => e.getBoundingClientRect().right > width + 0.5;
  const clips = e => getComputedStyle(e).overflowX !== "visible";
  const reaches = e => `${name(e)} reaches ${Math.round(e.getBoundingClientRect().right)}px`;
  const all = [...document.body.querySelectorAll("*")].filter(past);
  const found = all.filter(e => !past(e.parentElement))
    .filter(e => { for (let a = e.parentElement; a; a = a.parentElement) if (clips(a)) return false;
                   return true; })
    .map(reaches);
  // Else what overflows is out of flow (positioned against the page, not its box): name it.
  if (!found.length && document.documentElement.scrollWidth > width)
    found.push(`the page is ${document.documentElement.scrollWidth}px wide`, ...all
      .filter(e => getComputedStyle(e).position !== "static").slice(0, 3).map(reaches));
  const scrolling = [...document.body.querySelectorAll("*")].filter(e =>
    e.scrollWidth > e.clientWidth + 1 && ["auto", "scroll"].includes(getComputedStyle(e).overflowX)
    && !e.matches(".table-scroll[tabindex='0'][role=region]"));
  return found.concat(scrolling.map(e => `${name(e)} scrolls sideways with no cue`));
}"""


class WatchedBrowser:
    """Chromium, keeping the document of every page loaded in a context it opens (with script
    on: without it, no page sends its document)."""

    def __init__(self, chromium: Browser) -> None:
        self.chromium = chromium
        self.loaded: list[tuple[str, str]] = []

    def new_context(self, **options: Any) -> BrowserContext:
        context = self.chromium.new_context(**options)
        context.expose_function(
            "hexitimePageLoaded", lambda address, html: self.loaded.append((address, html))
        )
        context.add_init_script(SEND_LOADED_PAGE)
        return context


def page_problems(chromium: Browser, loaded: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Each loaded page (its address and document) laid out at each of `WIDTHS`, with every
    folded section open: what makes it wider than the screen, and the ids it names but does
    not hold. Only pages with a problem are in the answer."""
    problems: dict[str, list[str]] = {}
    context = chromium.new_context(java_script_enabled=False)
    serving = [""]

    def serve(route: Route) -> None:
        if route.request.resource_type == "document":
            route.fulfill(body=serving[0], content_type="text/html; charset=utf-8")
        else:
            route.continue_()

    context.route("**/*", serve)
    replay = context.new_page()
    for number, (address, html) in enumerate(dict.fromkeys(loaded), 1):
        serving[0] = html
        replay.goto(address)
        replay.eval_on_selector_all("details", "els => els.forEach(e => { e.open = true })")
        found = replay.evaluate(MISSING_IDS)
        for width in WIDTHS:
            replay.set_viewport_size({"width": width, "height": 800})
            found += [f"at {width}px: {problem}" for problem in replay.evaluate(TOO_WIDE)]
        if found:
            problems[f"page {number}, {address}"] = found
    context.close()
    return problems


def csp_refusals(page: Page) -> list[str]:
    """What the Content-Security-Policy refuses on `page` from now on (Chromium logs each
    refusal to the console); a test asserts the list stays empty."""
    refused: list[str] = []

    def note(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", note)
    return refused


def axe_scan(page: Page) -> dict[str, Any]:
    """Run axe-core (from npm, see theming/frontend.py) on the page; its full results. The
    script is loaded from the app's own static files: the page's policy refuses inline
    script. With HEXITIME_AXE_REPORT set, what it finds goes into the accessibility
    statement's report (see `pytest_sessionfinish`)."""
    page.add_script_tag(url=urljoin(page.url, static("theming/vendor/axe.min.js")))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    if os.environ.get("HEXITIME_AXE_REPORT"):
        scanned = _report_page(page.url)
        AXE_FOUND.setdefault(scanned, set()).update(
            (v["id"], v["impact"] or "", v["help"]) for v in result["violations"]
        )
    return result


# Pages scanned in this run and what axe found on each: {page: {(rule, impact, help)}}.
AXE_FOUND: dict[str, set[tuple[str, str, str]]] = {}


def _report_page(address: str) -> str:
    """A page as the report names it: its path, with ids as <id> so runs agree."""
    return re.sub(r"/\d+(?=/|$)", "/<id>", urlsplit(address).path) or "/"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With HEXITIME_AXE_REPORT set, write what this run's axe scans found into
    theming/accessibility/axe-report.json, which the accessibility statement lists: each
    page scanned now replaces its earlier findings; pages not scanned keep theirs."""
    if not os.environ.get("HEXITIME_AXE_REPORT") or not AXE_FOUND:
        return
    report = json.loads(AXE_REPORT.read_text())
    kept = [v for v in report.get("violations", []) if v["page"] not in AXE_FOUND]
    found = [
        {"rule": rule, "impact": impact, "help": help_text, "page": scanned}
        for scanned, violations in AXE_FOUND.items()
        for rule, impact, help_text in violations
    ]
    violations = sorted(kept + found, key=lambda v: (v["page"], v["rule"]))
    report = {"tested_on": date.today().isoformat(), "violations": violations}  # noqa: DTZ011
    AXE_REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


def unlabelled_controls(page: Page) -> list[str]:
    """Form controls the browser itself finds no label for. axe matches a label's `for` to
    any element with that id, so it misses the second of two controls sharing an id, whose
    label the browser gives to the first."""
    return page.eval_on_selector_all(
        "input:not([type=hidden]), textarea, select",
        "els => els.filter(e => !e.labels.length && !e.getAttribute('aria-label')"
        " && !e.getAttribute('aria-labelledby')).map(e => e.id || e.name)",
    )


# The focused element's outline, and the colour of what it is drawn over (the nearest
# ancestor with a background), as #rrggbb.
FOCUS_RING = """() => {
  const focused = document.activeElement;
  const hex = c => "#" + c.match(/[\\d.]+/g).slice(0, 3)
    .map(n => Math.round(+n).toString(16).padStart(2, "0")).join("");
  const clear = e =>
    ["transparent", "rgba(0, 0, 0, 0)"].includes(getComputedStyle(e).backgroundColor);
  let behind = focused.parentElement;
  while (behind && clear(behind)) behind = behind.parentElement;
  const style = getComputedStyle(focused);
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          colour: hex(style.outlineColor),
          behind: behind ? hex(getComputedStyle(behind).backgroundColor) : "#ffffff"};
}"""


def focus_problem(page: Page) -> str | None:
    """Why the focused element's indicator falls short of WCAG 2.2's focus appearance (a
    solid ring at least 2px thick, contrasting at least 3:1 with what it is drawn over), or
    None when it is enough."""
    ring = page.evaluate(FOCUS_RING)
    ratio = contrast_ratio(ring["colour"], ring["behind"])
    if ring["style"] != "solid" or ring["width"] < 2 or ratio < 3:
        return f"a {ring['width']}px {ring['style']} {ring['colour']} ring on {ring['behind']}"
    return None


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, live_server: LiveServer, host: str, email: str, password: str) -> None:
    page.goto(url(live_server, host, "/accounts/login/"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url(live_server, host, "/"))


def tab_to(page: Page, selector: str, presses: int = 60) -> None:
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

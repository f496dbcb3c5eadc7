"""`tab_to`, the keyboard helper of the browser tests, starts on the page a click led to,
however slowly that page arrives (tests/browser/test_journey.py flaked on it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import tab_to

if TYPE_CHECKING:
    from tests.browser.conftest import WatchedBrowser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

FIRST = b'<!doctype html><title>First</title><a href="/second">Next</a>'
SECOND = b'<!doctype html><title>Second</title><a href="/">Back</a><input id="answer">'
BODY_DELAY = 1.0  # seconds between the second page's headers and its body


class _SlowBody(BaseHTTPRequestHandler):
    """A server whose second page sends its headers at once and its body a second later:
    the browser commits the navigation (an empty document) long before the page is there."""

    def do_GET(self) -> None:
        body = SECOND if self.path == "/second" else FIRST
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        if self.path == "/second":
            time.sleep(BODY_DELAY)  # the slow server this test is about, not a fix
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowBody)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_tab_to_waits_for_the_page_a_click_opened(browser: WatchedBrowser, slow_site: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(slow_site)
        page.get_by_role("link", name="Next").click()
        tab_to(page, "#answer")
        assert page.title() == "Second"
    finally:
        context.close()

"""`hexitime up` boots the platform, serves real HTTP, stops cleanly on Ctrl-C, and stops
everything, saying why, when a child keeps failing at start."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from hexitime.cli import RESTART_GIVE_UP, RESTART_STABLE_SECONDS, _banner, _Child, _supervise
from hexitime.embedded import redis_url_with_db
from hexitime.settings.env import REPO_ROOT
from tests.servers import drop_database, free_port, http_get, with_database

pytestmark = pytest.mark.slow


def _start(env: dict[str, str], port: int, log: Path, *, run: int) -> subprocess.Popen[bytes]:
    """Start `hexitime up` for the `run`-th time with this log; wait for its banner."""
    with log.open("a") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "hexitime", "up", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 120
    while log.read_text().count("Hexitime is running") < run:
        assert up.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return up


def _stop(up: subprocess.Popen[bytes], log: Path) -> int:
    up.send_signal(signal.SIGINT)
    try:
        return up.wait(timeout=30)
    except subprocess.TimeoutExpired:
        up.kill()
        raise AssertionError(f"hexitime up did not stop:\n{log.read_text()}") from None


def _join(port: int, host: str, email: str) -> int:
    """Join a network through its form, as a browser would (the CSRF cookie and token)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}/join/"
    with opener.open(urllib.request.Request(base, headers={"Host": host})) as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert token is not None
    form = {
        "csrfmiddlewaretoken": token[1],
        "full_name": "Nell New",
        "email": email,
        "password": "a-long-test-passphrase",
    }
    request = urllib.request.Request(
        base, data=urllib.parse.urlencode(form).encode(), headers={"Host": host}
    )
    with opener.open(request) as response:
        return response.status


def test_up_serves_the_public_site_and_a_network_then_stops(tmp_path: Path) -> None:
    base_url = os.environ.get("DATABASE_URL", settings.DATABASE_URL)
    database_url = with_database(base_url, f"hexitime_smoke_{os.getpid()}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url_with_db(settings.REDIS_URL, 14),
        "HEXITIME_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.dev",
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
    }
    log = tmp_path / "up.log"
    up = _start(env, port, log, run=1)
    try:
        banner = log.read_text()
        assert f"http://oxford-ics.localhost:{port}/" in banner
        assert "Warwick Business School" in banner  # in full
        assert "organiser@wbs.example" in banner

        status, body = http_get(f"http://127.0.0.1:{port}/", f"localhost:{port}")
        assert status == 200, body
        assert "Oxfordshire ICS" in body

        status, body = http_get(f"http://127.0.0.1:{port}/", f"wbs.localhost:{port}")
        assert status == 200
        assert "Leadership and improvement, learned from each other" in body  # WBS's own words

        status, body = http_get(f"http://127.0.0.1:{port}/", f"nowhere.localhost:{port}")
        assert status == 404
        assert "There is no network at nowhere.localhost" in body

        # Refusals are one line each in the console: no second copy, no traceback.
        assert http_get(f"http://127.0.0.1:{port}/no-such-page/", f"wbs.localhost:{port}")[0] == 404
        status, _ = http_get(f"http://127.0.0.1:{port}/insights/metrics/", f"wbs.localhost:{port}")
        assert status == 403

        # The worker's email is one readable line with its link, and a file in the mailbox.
        assert _join(port, f"oxford-ics.localhost:{port}", "nell@nhs.net") == 200
        deadline = time.monotonic() + 30
        while "Email to nell@nhs.net" not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        first_exit = _stop(up, log)
    try:
        assert first_exit == 0, log.read_text()
        # A second start (no demo to load) and stop.
        up = _start(env, port, log, run=2)
        assert _stop(up, log) == 0, log.read_text()
    finally:
        drop_database(database_url)
    text = log.read_text()
    assert text.count("Stopped.") == 2
    assert text.count("Not Found: /no-such-page/") == 1, text
    assert text.count("Forbidden (Permission denied): /insights/metrics/") == 1, text
    assert "Traceback" not in text, text
    assert "superuser privileges" not in text, text  # these tests run as root in CI
    assert "SIGKILL" not in text, text
    [line] = [line for line in text.splitlines() if line.startswith("Email to nell@nhs.net")]
    assert "[Oxfordshire ICS] Confirm your email address" in line
    assert f"http://oxford-ics.localhost:{port}/join/verify/" in line
    assert "WARNING" not in line and "=?utf-8?" not in line
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    with socket.socket() as s:  # nothing is left listening on the port
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_a_child_that_keeps_failing_at_start_stops_everything_saying_why(
    capsys: pytest.CaptureFixture[str],
) -> None:
    failing = _Child("broken part", [sys.executable, "-c", "import sys; sys.exit(3)"])
    steady = _Child("steady part", [sys.executable, "-c", "import time; time.sleep(600)"])
    started = time.monotonic()

    assert _supervise([failing, steady]) == 1

    out = capsys.readouterr().out
    assert out.count("the broken part exited (3); restarting it") == RESTART_GIVE_UP - 1
    assert (
        f"the broken part exited (3) {RESTART_GIVE_UP} times in a row within "
        f"{RESTART_STABLE_SECONDS:.0f}s of starting; stopping." in out
    )
    assert steady.process.poll() is not None  # everything stopped, not only the broken part
    assert "steady part" not in out  # it never exited on its own
    assert time.monotonic() - started < 30


def test_the_banner_names_every_network_in_full_with_its_address_in_one_column() -> None:
    networks = [("Oxfordshire ICS", "oxford-ics"), ("Warwick Business School", "wbs")]
    banner = _banner("http://localhost:8000", networks, [("staff", "staff@x.example")], "pw")

    lines = banner.splitlines()
    assert "  Warwick Business School  http://wbs.localhost:8000/" in lines
    columns = {line.index("http://") for line in lines if "http://" in line}
    assert len(columns) == 1  # the public site and both networks line up
    assert "Demo sign-ins (password: pw)" in banner

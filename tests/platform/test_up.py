"""`hexitime up` boots the platform, serves real HTTP, stops cleanly on Ctrl-C, and stops
everything, saying why, when a child keeps failing at start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from hexitime.cli import RESTART_GIVE_UP, RESTART_STABLE_SECONDS, _banner, _Child, _supervise
from hexitime.settings.env import REPO_ROOT
from tests.servers import drop_database, free_port, http_get, other_redis_db, with_database

pytestmark = pytest.mark.slow


def test_up_serves_the_public_site_and_a_network_then_stops(tmp_path: Path) -> None:
    base_url = os.environ.get("DATABASE_URL", settings.DATABASE_URL)
    database_url = with_database(base_url, f"hexitime_smoke_{os.getpid()}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": other_redis_db(os.environ.get("REDIS_URL", settings.REDIS_URL), 14),
        "HEXITIME_HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.dev",
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
    }
    log = tmp_path / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "hexitime", "up", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "Hexitime is running" not in log.read_text():
            assert up.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        banner = log.read_text()
        assert f"http://oxford-ics.localhost:{port}/" in banner
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
    finally:
        up.send_signal(signal.SIGINT)
        try:
            exit_code = up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
        drop_database(database_url)
    assert exit_code == 0, log.read_text()
    assert "Stopped." in log.read_text()
    with socket.socket() as s:  # nothing is left listening on the port
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_a_child_that_keeps_failing_at_start_stops_everything_saying_why(capsys) -> None:
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

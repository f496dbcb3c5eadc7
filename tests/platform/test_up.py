"""`hexitime up` boots the platform, serves real HTTP, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from hexitime.settings.env import REPO_ROOT

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _other_redis_db(url: str) -> str:
    """Keep the smoke test's worker off the queue the test suite's workers use."""
    if url.startswith("unix://"):
        return url.split("?")[0] + "?db=14"
    return urlunsplit(urlsplit(url)._replace(path="/14"))


def _get(url: str, host: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def test_up_serves_the_public_site_and_a_network_then_stops(tmp_path: Path) -> None:
    base_url = os.environ.get("DATABASE_URL", settings.DATABASE_URL)
    database_url = _with_database(base_url, f"hexitime_smoke_{os.getpid()}")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": _other_redis_db(os.environ.get("REDIS_URL", settings.REDIS_URL)),
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

        status, body = _get(f"http://127.0.0.1:{port}/", f"localhost:{port}")
        assert status == 200, body
        assert "Oxfordshire ICS" in body

        status, body = _get(f"http://127.0.0.1:{port}/", f"wbs.localhost:{port}")
        assert status == 200
        assert "Leadership and improvement, learned from each other" in body  # WBS's own words

        status, body = _get(f"http://127.0.0.1:{port}/", f"nowhere.localhost:{port}")
        assert status == 404
        assert "There is no network at nowhere.localhost" in body
    finally:
        up.send_signal(signal.SIGINT)
        try:
            exit_code = up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
        _drop_database(database_url)
    assert exit_code == 0, log.read_text()
    assert "Stopped." in log.read_text()
    with socket.socket() as s:  # nothing is left listening on the port
        assert s.connect_ex(("127.0.0.1", port)) != 0

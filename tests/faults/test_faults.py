"""Faults injected into a running platform (`hexitime up`, real processes) on a PostgreSQL and
a Redis of the tests' own: a killed worker is started again; beat keeps ticking through a
PostgreSQL restart; a move made while Redis is down answers 2xx and its email arrives once
Redis is back, from the sweep; so does a network started while Redis is down; the worker
lives through Redis restarts; no task results pile up in Redis.

The tests run in order on one platform and tally operations, faults, lost and duplicated
emails, printed at the end (tests/faults/conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import redis

from hexitime.settings.env import REPO_ROOT
from tests.faults.conftest import Tally
from tests.servers import PostgresServer, RedisServer, free_port

pytestmark = pytest.mark.slow

SWEEP_SECONDS = 2  # HEXITIME_OUTBOX_SWEEP_SECONDS and _GRACE_SECONDS for this platform
ORGANISER = "organiser@wbs.example"
MAKE_TOKEN = (  # a personal API token for the organiser, printed as "TOKEN <secret>"
    "from core.members.models import Member; from core.members.services import "
    "api_token_create; print('TOKEN', api_token_create(actor=Member.objects.get("
    f"email={ORGANISER!r}), name='faults')[1])"
)


@dataclass
class Platform:
    up: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]
    port: int
    postgres: PostgresServer
    redis: RedisServer
    token: str = ""
    exchange: int = 0  # the organiser's exchange the moves are made in
    sent: list[str] = field(default_factory=list)  # message bodies whose email is due

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def child(self, word: str) -> psutil.Process | None:
        """The main process of one of `hexitime up`'s children (`worker`, `beat`), if one
        is running. (Celery rewrites its command line into a title that keeps the word.)"""
        for process in psutil.Process(self.up.pid).children():
            with contextlib.suppress(psutil.NoSuchProcess):
                if re.search(rf"\b{word}\b", " ".join(process.cmdline())):
                    return process
        return None

    def running(self, word: str) -> psutil.Process:
        found = self.child(word)
        assert found is not None, f"no {word} running under hexitime up:\n{self.output()}"
        return found

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={
                "Host": f"wbs.localhost:{self.port}",
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def respond(self) -> None:
        """The organiser responds to someone else's listing, opening the exchange."""
        status, listings = self.api("GET", "listings/")
        assert status == 200, listings
        for listing in listings["results"]:
            status, exchange = self.api(
                "POST", "exchanges/", {"listing": listing["id"], "message": "Can I help?"}
            )
            if status == 201:
                self.exchange = exchange["id"]
                return
        raise AssertionError(f"the organiser could respond to no listing: {exchange}")

    def move(self, tally: Tally) -> int:
        """One move: a message in the organiser's exchange, which emails the other side.
        Returns the HTTP status."""
        body = f"fault test {uuid.uuid4().hex}"
        status, _ = self.api("POST", f"exchanges/{self.exchange}/message/", {"body": body})
        tally.operations += 1
        if 200 <= status < 300:
            self.sent.append(body)
        return status

    def emails_of(self, body: str) -> int:
        # The console email backend prints each email the worker sends into the log.
        return len(re.findall(re.escape(body), self.output()))

    def emailed(self, body: str) -> Callable[[], bool]:
        return lambda: self.emails_of(body) > 0


def _wait(what: str, ready: Callable[[], bool], platform: Platform, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, f"{what} within {seconds}s:\n{platform.output()}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    home = tmp_path_factory.mktemp("faults")
    postgres = PostgresServer()
    postgres.init()
    redis_server = RedisServer(home)
    redis_server.start()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": postgres.url("hexitime"),
        "REDIS_URL": redis_server.url,
        "HEXITIME_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.dev",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "HEXITIME_OUTBOX_GRACE_SECONDS": str(SWEEP_SECONDS),
        "HEXITIME_OUTBOX_SWEEP_SECONDS": str(SWEEP_SECONDS),
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
    }
    log = home / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "hexitime", "up", "--port", str(port)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Platform(up=up, log=log, env=env, port=port, postgres=postgres, redis=redis_server)
    try:
        _wait(
            "hexitime up started", lambda: "Hexitime is running" in running.output(), running, 180
        )
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "hexitime",
                "manage",
                "tenant_command",
                "shell",
                "--schema",
                "net_wbs",
                "-c",
                MAKE_TOKEN,
            ],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert made.returncode == 0, made.stdout + made.stderr
        running.token = made.stdout.split("TOKEN ")[1].split()[0]
        running.respond()
        yield running
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
        redis_server.stop()
        postgres.remove()


def test_a_killed_worker_is_started_again_and_delivers(platform: Platform, tally: Tally) -> None:
    worker = platform.running("worker")
    worker.kill()
    tally.faults += 1

    _wait(
        "the supervisor restarts the worker",
        lambda: "the Celery worker exited (-9); restarting it" in platform.output(),
        platform,
        30,
    )
    _wait("a new worker", lambda: platform.child("worker") not in {None, worker}, platform, 30)
    assert platform.move(tally) == 200
    body = platform.sent[-1]
    _wait("the new worker emails the move", platform.emailed(body), platform, 60)
    assert platform.up.poll() is None  # the platform is still up


def test_beat_keeps_ticking_through_a_postgresql_restart(platform: Platform, tally: Tally) -> None:
    beat = platform.running("beat")
    platform.postgres.restart()
    tally.faults += 1

    # Beat sends the sweeps every SWEEP_SECONDS: its first ticks after the restart meet the
    # connection the server closed. A beat that crashed would be restarted (a new pid).
    deadline = time.monotonic() + 4 * SWEEP_SECONDS
    while time.monotonic() < deadline:
        assert "the Celery beat exited" not in platform.output(), platform.output()
        time.sleep(0.2)
    assert platform.running("beat").pid == beat.pid
    # The web server and the worker, reconnected, still serve a move and its email.
    assert platform.move(tally) == 200
    body = platform.sent[-1]
    _wait("the email after the restart", platform.emailed(body), platform, 60)


def test_a_move_while_redis_is_down_answers_2xx_and_its_email_comes_later(
    platform: Platform, tally: Tally
) -> None:
    worker = platform.running("worker")
    platform.redis.stop()
    tally.faults += 1
    try:
        status = platform.move(tally)
    finally:
        platform.redis.start()
    assert status == 200, platform.output()
    body = platform.sent[-1]
    assert platform.emails_of(body) == 0  # its message was never queued

    # The sweep (beat, every SWEEP_SECONDS) finds it pending and queues it again.
    _wait("the swept email", platform.emailed(body), platform, 60)
    assert platform.running("worker").pid == worker.pid  # it lived through the restart


def test_a_network_started_while_redis_is_down_is_provisioned_later(
    platform: Platform, tally: Tally
) -> None:
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    host = {"Host": f"localhost:{platform.port}"}
    start_url = f"http://127.0.0.1:{platform.port}/start/"
    with browser.open(urllib.request.Request(start_url, headers=host), timeout=30) as page:
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
    assert csrf is not None
    form = {
        "csrfmiddlewaretoken": csrf[1],
        "name": "Fault Trust",
        "slug": "fault-trust",
        "organisation_type": "trust",
        "organiser_name": "Fay Ault",
        "organiser_email": "fay@fault.example",
        "organiser_password": "correct-horse-battery",
    }
    platform.redis.stop()
    tally.faults += 1
    try:
        request = urllib.request.Request(
            start_url,
            data=urllib.parse.urlencode(form).encode(),
            headers={**host, "Referer": start_url},
        )
        with browser.open(request, timeout=30) as answer:
            status = answer.status  # after the redirect to the progress page
        tally.operations += 1
    finally:
        platform.redis.start()
    assert status == 200, platform.output()

    def provisioned() -> bool:
        with psycopg.connect(platform.env["DATABASE_URL"], autocommit=True) as conn:
            row = conn.execute(
                "SELECT status FROM tenants_provisioningjob WHERE slug = 'fault-trust'"
            ).fetchone()
        return row is not None and row[0] == "done"

    # Its message was never queued: the sweep queues the job again.
    _wait("the network provisioned", provisioned, platform, 90)


def test_the_worker_lives_through_redis_restarts(platform: Platform, tally: Tally) -> None:
    worker = platform.running("worker")
    for crash in (True, False, True):  # killed, shut down, killed
        platform.redis.stop(crash=crash)
        tally.faults += 1
        platform.redis.start()
        assert platform.move(tally) == 200
        body = platform.sent[-1]
        _wait("the email after Redis came back", platform.emailed(body), platform, 60)
    assert platform.running("worker").pid == worker.pid
    assert "Unrecoverable error" not in platform.output()


def test_every_email_arrived_once_and_no_task_results_pile_up(
    platform: Platform, tally: Tally
) -> None:
    time.sleep(3 * SWEEP_SECONDS)  # room for a wrongly repeated email to arrive
    counts = [platform.emails_of(body) for body in platform.sent]
    tally.lost += counts.count(0)
    tally.duplicated += sum(count - 1 for count in counts if count > 1)
    assert (tally.lost, tally.duplicated) == (0, 0), platform.output()
    assert len(platform.sent) >= 6  # every move the tests above made
    keys = redis.Redis.from_url(platform.redis.url).keys("celery-task-meta-*")
    assert keys == []

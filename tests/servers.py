"""Helpers for tests that start real processes: ports, scratch databases, HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from hexitime.settings.env import REPO_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def other_redis_db(url: str, db: int) -> str:
    """Keep a started platform's workers off the queue the test suite's workers use."""
    if url.startswith("unix://"):
        return url.split("?")[0] + f"?db={db}"
    return urlunsplit(urlsplit(url)._replace(path=f"/{db}"))


def http_get(url: str, host: str, timeout: float = 10) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for_port(port: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def release_run(url: str, home: Path, **extra_env: str) -> subprocess.Popen[str]:
    """`hexitime release` against the database at `url`, in a process of its own."""
    env = {
        **os.environ,
        **extra_env,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.dev",
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
        "HEXITIME_HOME": str(home),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "hexitime", "release"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip

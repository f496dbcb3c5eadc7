"""`scratch_database` creates a database for a benchmark and always drops it again."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from hexitime.scratch import scratch_database
from kernel.db import connection

PREFIX = "hx_test_scratch"


def _databases() -> set[str]:
    admin = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        return {name for (name,) in conn.execute("SELECT datname FROM pg_database")}


def test_the_database_exists_inside_the_block_and_is_gone_after_it() -> None:
    before = os.environ["DATABASE_URL"]
    with scratch_database(PREFIX) as scratch:
        assert scratch.name == f"{PREFIX}_{os.getpid()}"
        assert scratch.name in _databases()
        assert os.environ["DATABASE_URL"] == scratch.url
        with psycopg.connect(scratch.url) as conn:
            row = conn.execute("SELECT current_database(), current_setting('server_version')")
            assert row.fetchall() == [(scratch.name, scratch.server_version)]
        assert scratch.server_version_num // 10000 == int(scratch.server_version.split(".")[0])
    assert scratch.name not in _databases()
    assert os.environ["DATABASE_URL"] == before


def test_the_database_is_dropped_when_the_block_raises_with_a_session_still_open() -> None:
    before = os.environ["DATABASE_URL"]
    with pytest.raises(ZeroDivisionError), scratch_database(PREFIX) as scratch:
        held = psycopg.connect(scratch.url)  # left open: the drop must end it
        held.execute("SELECT 1")
        _ = 1 / 0
    assert scratch.name not in _databases()
    assert os.environ["DATABASE_URL"] == before
    with pytest.raises(psycopg.OperationalError):
        held.execute("SELECT 1")
    held.close()


@pytest.mark.django_db
def test_django_connections_to_other_databases_stay_open() -> None:
    connection.ensure_connection()
    with scratch_database(PREFIX):
        pass
    assert connection.connection is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_without_database_url_it_says_what_to_set_and_creates_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(SystemExit, match="set DATABASE_URL"), scratch_database(PREFIX):
        pass
    monkeypatch.undo()
    assert f"{PREFIX}_{os.getpid()}" not in _databases()

"""`hexitime release` and the database it needs: idempotent, safe to run concurrently,
clear when it fails; commands need the maintenance database only to create a missing one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.conf import settings
from psycopg import sql

from hexitime.embedded import database_ensure
from tests.servers import drop_database, free_port, release_run, with_database

pytestmark = pytest.mark.slow


def _base_url() -> str:
    return os.environ.get("DATABASE_URL", settings.DATABASE_URL)


@pytest.fixture
def scratch_url() -> Iterator[str]:
    url = with_database(_base_url(), f"hexitime_release_{os.getpid()}")
    drop_database(url)
    yield url
    drop_database(url)


def _public_site(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT n.schema_name, d.domain FROM tenants_network n"
            " JOIN tenants_domain d ON d.tenant_id = n.id ORDER BY d.domain"
        ).fetchall()
    return [(str(schema), str(domain)) for schema, domain in rows]


def test_two_releases_at_once_take_turns_and_a_third_finds_nothing_to_do(
    scratch_url: str, tmp_path: Path
) -> None:
    first, second = release_run(scratch_url, tmp_path), release_run(scratch_url, tmp_path)
    outputs = [run.communicate(timeout=300) for run in (first, second)]
    for run, (out, err) in zip((first, second), outputs, strict=True):
        assert run.returncode == 0, out + err
        assert "Release ready" in out
    assert any("Another release is running" in err for _, err in outputs), outputs
    # A fresh database now has its public site and the template for this version.
    assert _public_site(scratch_url) == [("public", settings.HEXITIME_BASE_DOMAIN)]
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT count(*) FROM tenants_schematemplate").fetchone() == (1,)

    third = release_run(scratch_url, tmp_path)
    out, err = third.communicate(timeout=300)
    assert third.returncode == 0, out + err
    assert "Migrated the public schema and 0 of 0 network schemas" in out
    assert _public_site(scratch_url) == [("public", settings.HEXITIME_BASE_DOMAIN)]


def test_a_release_that_cannot_reach_the_database_says_so_and_fails(tmp_path: Path) -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/hexitime"
    run = release_run(unreachable, tmp_path)
    _, err = run.communicate(timeout=60)
    assert run.returncode != 0
    assert "Cannot reach the database" in err
    assert "Traceback" not in err


def test_a_release_for_citus_on_a_database_without_the_extension_stops_before_migrating(
    scratch_url: str, tmp_path: Path
) -> None:
    """A server set for schema-based sharding, and a database made on the coordinator alone
    (as the release makes a missing one): every network would stay on the coordinator, so
    the release refuses, says what to do, and migrates nothing. The setting is passed as a
    connection option here; on Citus it is the server's (tests/scaleout runs it there)."""
    sharding = {"PGOPTIONS": "-c citus.enable_schema_based_sharding=on"}
    run = release_run(scratch_url, tmp_path, **sharding)
    _, err = run.communicate(timeout=300)
    assert run.returncode != 0
    name = urlsplit(scratch_url).path.lstrip("/")
    assert f"database {name!r} has no citus extension" in err
    assert "CREATE EXTENSION citus" in err and "docs/operations/citus.md" in err
    assert "Traceback" not in err
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT to_regclass('tenants_network')").fetchone() == (None,)
    # Sharding off (plain PostgreSQL), the same database releases.
    run = release_run(scratch_url, tmp_path, PGOPTIONS="-c citus.enable_schema_based_sharding=off")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, out + err


@pytest.fixture
def restricted_role() -> Iterator[tuple[str, str]]:
    """A role that may not create databases, owning a database of its own."""
    role, name = "hexitime_nocreatedb", f"hexitime_owned_{os.getpid()}"
    admin_url = with_database(_base_url(), "postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB").format(sql.Identifier(role)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(role)
            )
        )
    try:
        yield role, name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def _as_role(url: str, role: str, database: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{role}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


def test_an_existing_database_is_used_by_a_role_that_cannot_create_databases(
    restricted_role: tuple[str, str],
) -> None:
    role, name = restricted_role
    if not urlsplit(_base_url()).hostname:
        pytest.skip("needs a PostgreSQL server over TCP (DATABASE_URL) to sign in as a role")
    database_ensure(_as_role(_base_url(), role, name))  # no CREATE DATABASE attempted


def test_a_missing_database_is_created_and_a_role_that_may_not_is_told_why(
    scratch_url: str, restricted_role: tuple[str, str]
) -> None:
    database_ensure(scratch_url)
    with psycopg.connect(scratch_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (
            urlsplit(scratch_url).path.lstrip("/"),
        )
    role, _ = restricted_role
    if not urlsplit(_base_url()).hostname:
        pytest.skip("needs a PostgreSQL server over TCP (DATABASE_URL) to sign in as a role")
    with pytest.raises(SystemExit, match=r"could not be created.*CREATEDB"):
        database_ensure(_as_role(_base_url(), role, f"hexitime_never_{os.getpid()}"))

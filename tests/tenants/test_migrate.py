"""`hexitime tenants migrate`: every network schema migrates in its own transaction."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command
from psycopg import sql

from hexitime.settings.env import REPO_ROOT
from kernel.db import connection
from tenants.models import Network
from tenants.services.schemas import tenant_migration_state
from tests.tenants.test_provisioning import CATALOG, _catalog

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# Acts on any DDL in one schema once that schema records a ledger migration: the first
# ledger migration applies, then the second one fails (or stalls) half-way through.
SABOTAGE = """
CREATE FUNCTION public.test_sabotage() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() WHERE schema_name = {schema})
       AND EXISTS (SELECT 1 FROM {schema_ident}.django_migrations WHERE app = 'ledger') THEN
        {action};
    END IF;
END $$;
CREATE EVENT TRIGGER test_sabotage ON ddl_command_end EXECUTE FUNCTION public.test_sabotage();
"""
FAIL = "RAISE EXCEPTION 'sabotaged migration in %', {schema}"
STALL = "PERFORM pg_sleep(60)"


def _sabotage(schema: str, action: str) -> None:
    with connection.cursor() as cursor:
        literal = sql.Literal(schema).as_string(cursor.connection)
        cursor.execute(
            SABOTAGE.format(
                schema=literal,
                schema_ident=sql.Identifier(schema).as_string(cursor.connection),
                action=action.format(schema=literal),
            )
        )


def _sabotage_end() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP EVENT TRIGGER IF EXISTS test_sabotage")
        cursor.execute("DROP FUNCTION IF EXISTS public.test_sabotage()")


def _state(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        tables = sorted(cursor.fetchall())
        cursor.execute(
            sql.SQL("SELECT app, name FROM {}.django_migrations").format(sql.Identifier(schema))
        )
        migrations = sorted(cursor.fetchall())
    return {"tables": tables, "migrations": migrations}


def _roll_back(schema: str, app: str, to: str, *, mark_behind: bool = True) -> None:
    """Unapply migrations of one app in one schema, as an operator would by hand, and
    (unless told not to) clear the network's recorded state as they then must."""
    call_command("migrate_schemas", app, to, schema_name=schema, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    if mark_behind:
        Network.objects.filter(schema_name=schema).update(migration_state="")


def _ledger_to_zero(schema: str) -> None:
    _roll_back(schema, "ledger", "zero")


def _recorded(network: Network) -> str:
    return Network.objects.get(pk=network.pk).migration_state


@pytest.mark.django_db(transaction=True)
def test_only_schemas_behind_are_migrated_by_replayed_sql_and_the_others_skipped(
    make_network: Callable[..., Network], capsys: pytest.CaptureFixture[str]
) -> None:
    """Network A's schema is rolled back but still recorded as current: it is skipped and
    nothing is done in it, while B, recorded as behind, is brought to exactly the schema
    a new network gets, content types and permissions of the re-created model included."""
    a, b = make_network("fleet-a"), make_network("fleet-b")
    reference = _catalog(b.schema_name)
    for network in (a, b):
        _roll_back(network.schema_name, "listings", "0001", mark_behind=network == b)
    rolled_back = _catalog(a.schema_name)
    assert rolled_back["migrations"] != reference["migrations"]
    assert _recorded(a) == tenant_migration_state() != _recorded(b)

    call_command("tenants_migrate", workers=2)

    out, err = capsys.readouterr()
    assert "1 network schemas already at migration state" in err
    assert "migrating 1 with 2 workers" in err
    assert "net_fleet_b replayed" in err and "net_fleet_a" not in err
    assert "1 of 2 network schemas (1 by replayed SQL, 0 by migrate; 1 already current)" in out
    migrated = _catalog(b.schema_name)
    for part in CATALOG:
        assert migrated[part] == reference[part], part
    assert _recorded(b) == tenant_migration_state()
    assert _catalog(a.schema_name) == rolled_back  # B's migration did not reach A

    # Told to look at every schema, the command finds A's missing migration too.
    call_command("tenants_migrate", workers=1, every_schema=True)
    assert _catalog(a.schema_name) == reference
    # With nothing behind, a run touches no network schema.
    call_command("tenants_migrate", workers=2)
    assert "0 of 2 network schemas" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_a_failing_schema_is_left_unchanged_and_the_others_are_migrated(
    make_network: Callable[..., Network], capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = make_network("good"), make_network("bad")
    migrated = _state(good.schema_name)
    for network in (good, bad):
        _ledger_to_zero(network.schema_name)
    before = _state(bad.schema_name)
    assert not any(app == "ledger" for app, _ in before["migrations"])

    _sabotage(bad.schema_name, FAIL)
    try:
        with pytest.raises(CommandError, match="1 of 2 network schemas failed"):
            call_command("tenants_migrate", workers=2)
    finally:
        _sabotage_end()

    assert _state(bad.schema_name) == before  # not even the first ledger migration
    assert _state(good.schema_name) == migrated
    assert _recorded(bad) == ""  # not marked as migrated
    assert _recorded(good) == tenant_migration_state()
    err = capsys.readouterr().err
    assert "2/2" in err
    assert "net_bad left unchanged: " in err
    assert "sabotaged migration in net_bad" in err

    # With the cause gone, running again finishes the job.
    call_command("tenants_migrate", workers=1)
    assert _state(bad.schema_name) == migrated
    assert _recorded(bad) == tenant_migration_state()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_run_killed_half_way_leaves_no_half_migrated_schema(
    make_network: Callable[..., Network], tmp_path: Path
) -> None:
    """Kill `hexitime tenants migrate` (and its workers) while one schema is in the middle
    of its migrations: that schema is left exactly as before, and a new run finishes."""
    network = make_network("killed")
    migrated = _state(network.schema_name)
    _ledger_to_zero(network.schema_name)
    before = _state(network.schema_name)
    database = connection.settings_dict["NAME"]
    url = urlunsplit(urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{database}"))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.test",
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
        "HEXITIME_HOME": str(tmp_path),
    }
    _sabotage(network.schema_name, STALL)
    run = subprocess.Popen(
        [sys.executable, "-m", "hexitime", "tenants", "migrate", "--workers", "2"],
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        stalled = _wait_for_stalled_backend(database, run)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
        # The server notices a dead client only when it next talks to it; ending the
        # backend is what a killed client's connection comes to.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [stalled])
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        _sabotage_end()

    assert _state(network.schema_name) == before  # not even the first ledger migration
    call_command("tenants_migrate", workers=2)
    assert _state(network.schema_name) == migrated


def _wait_for_stalled_backend(database: str, run: subprocess.Popen[bytes]) -> int:
    for _ in range(600):
        assert run.poll() is None, "the migrate command ended before it stalled"
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event = 'PgSleep'",
                [database],
            )
            row = cursor.fetchone()
        if row:
            return int(row[0])
        time.sleep(0.1)
    raise AssertionError("the migrate command never reached the stalled migration")

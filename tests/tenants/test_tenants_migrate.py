"""`hexitime tenants migrate`: parallel, and a killed run leaves no half-migrated schema."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import schema_context

from hexitime.db import connection


def _listings_state(schema: str) -> tuple[bool, bool, bool]:
    """(listings migration recorded, listings table exists, ledger 0002 recorded)."""
    with schema_context(schema):
        recorded = MigrationRecorder(connection).migration_qs
        listings = recorded.filter(app="listings").exists()
        ledger = recorded.filter(app="ledger", name="0002_guarantees").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [f"{schema}.listings_listing"])
            exists = cursor.fetchone()[0] is not None
    return listings, exists, ledger


def _unapply_listings(schema: str) -> None:
    """Take the schema back two apps' worth of migrations, so a run applies several."""
    call_command("migrate_schemas", "listings", "zero", schema_name=schema, verbosity=0)
    call_command("migrate_schemas", "ledger", "0001", schema_name=schema, verbosity=0)
    connection.set_schema_to_public()


def _command(*args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", "").rsplit("/", 1)[0]
        + "/"
        + connection.settings_dict["NAME"],
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.test",
        "PYTHONPATH": os.pathsep.join([".", "platform"]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "hexitime", "tenants", "migrate", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_killed_run_leaves_every_schema_whole_and_a_rerun_finishes(make_network):
    networks = [make_network(f"mig-{n}") for n in range(8)]
    schemas = [n.schema_name for n in networks]
    for schema in schemas:
        _unapply_listings(schema)
        assert _listings_state(schema) == (False, False, False)

    run = _command("--processes", "1")
    assert run.stdout is not None
    seen = []
    for line in run.stdout:
        seen.append(line)
        if " 2/8 " in line:
            os.killpg(run.pid, signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "".join(seen)

    states = [_listings_state(schema) for schema in schemas]
    assert all(state in {(False, False, False), (True, True, True)} for state in states), states
    assert (False, False, False) in states, "the run finished before it was killed"
    assert (True, True, True) in states

    rerun = _command("--processes", "2")
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output
    assert "Migrated 8 of 8 schemas" in output
    assert "[##############################] 8/8" in output
    assert all(_listings_state(schema) == (True, True, True) for schema in schemas)

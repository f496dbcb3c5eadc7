"""`hexitime release`: the one step a new version needs before it takes traffic.

    1. migrate the public schema, then every network schema whose recorded migration
       state is behind (in parallel, each in its own transaction: `hexitime tenants
       migrate`; with no new migration that is one query);
    2. bootstrap the public site (the public tenant and its domain);
    3. capture the network schema template for this migration state, so the first
       network created on the new version does not pay for it.

First it checks the database is ready for the server: on a server with Citus
schema-based sharding on, the database must have the citus extension, or every network
would quietly stay on the coordinator (docs/operations/citus.md).

Every step is idempotent, so running it twice does nothing the second time. Runs take
turns: a PostgreSQL advisory lock, held on a connection of its own for the whole run,
makes a second concurrent release wait for the first and then find nothing to do. Exits
non-zero, saying what failed, when any step fails; networks that migrated stay migrated
and the next run finishes the rest.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from tenants.services.networks import platform_bootstrap
from tenants.services.schemas import schema_template_current

_RELEASE_LOCK = 0x6878_72656C  # pg_advisory_lock key: "hx rel"


class Command(BaseCommand):
    help = "Prepare the database for this version: migrate, bootstrap, capture the template."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=2, help="processes migrating network schemas"
        )
        parser.add_argument(
            "--lock-timeout",
            type=int,
            default=30 * 60,
            help="seconds to wait for a release already running (default 1800)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        try:
            lock = _lock_connect(settings.DATABASES["default"])
        except psycopg.Error as error:
            raise CommandError(f"Release failed: cannot reach the database ({error}).") from None
        with lock:
            _citus_check(lock, settings.DATABASES["default"]["NAME"])
            self._wait_for_lock(lock, options["lock_timeout"])
            try:
                call_command("tenants_migrate", workers=options["workers"], stdout=self.stdout)
                platform_bootstrap()
                template = schema_template_current()
            except DatabaseError as error:
                raise CommandError(f"Release failed: {error}".strip()) from error
        self.stdout.write(
            f"Release ready in {time.perf_counter() - started:.1f}s: schemas migrated, public "
            f"site in place, network template {template.state[:12]} captured."
        )

    def _wait_for_lock(self, lock: psycopg.Connection[Any], timeout: int) -> None:
        if lock.execute("SELECT pg_try_advisory_lock(%s)", [_RELEASE_LOCK]).fetchone() == (True,):
            return
        self.stderr.write("Another release is running; waiting for it to finish...")
        try:
            lock.execute(f"SET lock_timeout = '{int(timeout)}s'")
            lock.execute("SELECT pg_advisory_lock(%s)", [_RELEASE_LOCK])
        except psycopg.errors.LockNotAvailable:
            raise CommandError(
                f"Release failed: another release held the lock for over {timeout}s."
            ) from None


def _citus_check(conn: psycopg.Connection[Any], name: str) -> None:
    """Refuse a database the server would shard by schema but that lacks the extension:
    made on the coordinator alone (as a missing database is made), it would take every
    network as a plain local schema, and nothing would say so."""
    sharding = conn.execute(
        "SELECT current_setting('citus.enable_schema_based_sharding', true)"
    ).fetchone()
    if sharding != ("on",):
        return
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone():
        return
    raise CommandError(
        "Release failed: this server has Citus schema-based sharding on, but database "
        f"{name!r} has no citus extension, so every network would stay on the coordinator. "
        "Create the database on the coordinator and on every worker, run CREATE EXTENSION "
        "citus in it on each, register the nodes (citus_set_coordinator_host, "
        "citus_add_node), then run the release again: docs/operations/citus.md."
    )


def _lock_connect(database: dict[str, Any]) -> psycopg.Connection[Any]:
    """A connection of the release's own: the migration step closes Django's connections
    before it forks its workers, which would let a session-level lock go."""
    return psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"],
        password=database["PASSWORD"] or None,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        autocommit=True,
        **database["OPTIONS"],
    )

"""`hexitime tenants migrate`: apply tenant migrations to every network, in parallel.

Each schema migrates in one transaction of its own (PostgreSQL DDL is transactional), so
a run that is killed or fails half-way leaves every schema either fully migrated or
untouched; running the command again finishes the job. Spare schemas built for an older
migration state are not migrated: they are dropped and rebuilt by `schema_spares_fill`.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, transaction
from django_tenants.migration_executors.base import run_migrations

from hexitime.db import connection
from tenants.selectors import network_list
from tenants.services import migrate_options


def migrate_schema(schema_name: str) -> tuple[str, str | None]:
    """Migrate one schema in one transaction; return (schema, error or None)."""
    try:
        with transaction.atomic():
            run_migrations(
                args=[],
                options=migrate_options(),
                executor_codename="tenants-migrate",
                schema_name=schema_name,
            )
    except Exception as error:  # reported per schema; the others carry on
        return schema_name, f"{type(error).__name__}: {error}"
    finally:
        connection.set_schema_to_public()
    return schema_name, None


def _close_inherited_connections() -> None:
    # A forked worker must not share the parent's socket: open its own.
    for conn in connections.all(initialized_only=True):
        conn.inc_thread_sharing()
        conn.connection = None
        conn.dec_thread_sharing()


class Command(BaseCommand):
    help = "Apply tenant migrations to every network in parallel, one transaction per schema."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes", type=int, default=os.cpu_count() or 1, help="parallel workers"
        )
        parser.add_argument(
            "--schema", action="append", dest="schemas", help="only this schema (repeatable)"
        )

    def handle(self, *args: Any, processes: int, schemas: list[str] | None, **options: Any) -> None:
        names = schemas or list(network_list().values_list("schema_name", flat=True))
        if not names:
            self.stdout.write("No networks to migrate.")
            return
        connections.close_all()
        started = time.perf_counter()
        failed: dict[str, str] = {}
        done = 0
        context = multiprocessing.get_context("fork")
        with context.Pool(
            max(1, min(processes, len(names))), initializer=_close_inherited_connections
        ) as pool:
            for schema_name, error in pool.imap_unordered(migrate_schema, names):
                done += 1
                if error:
                    failed[schema_name] = error
                self._progress(done, len(names), schema_name, error)
        self.stdout.write("")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"Migrated {done - len(failed)} of {len(names)} schemas in {elapsed:.1f}s."
        )
        if failed:
            for schema_name, error in sorted(failed.items()):
                self.stderr.write(f"  {schema_name}: {error}")
            raise CommandError(
                f"{len(failed)} schema(s) failed and were left as they were; fix and run again."
            )

    def _progress(self, done: int, total: int, schema_name: str, error: str | None) -> None:
        width = 30
        filled = width * done // total
        status = "failed" if error else "ok"
        self.stdout.write(
            f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {schema_name} {status}",
        )
        self.stdout.flush()

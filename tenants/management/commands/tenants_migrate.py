"""`hexitime tenants migrate`: migrate the public schema, then every network schema.

Network schemas migrate in parallel worker processes, each schema in its own transaction
(tenants.services.schema_migrate): a run killed half-way leaves every schema either fully
migrated or untouched, and running the command again finishes the job. Afterwards the
provisioning template for the new migration state is captured, so the next network
created does not pay for it.
"""

from __future__ import annotations

import multiprocessing
import sys
import time
from typing import Any, TextIO

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from tenants.selectors import network_list
from tenants.services import schema_migrate, schema_template_current


def _migrate_one(schema_name: str) -> tuple[str, str | None]:
    """Runs in a worker process: (schema, None) on success, (schema, error) on failure."""
    try:
        schema_migrate(schema_name=schema_name)
    except Exception as error:
        return schema_name, f"{type(error).__name__}: {error}"
    return schema_name, None


def _worker_start() -> None:
    # Forked workers must open their own connections, never share the parent's socket.
    for connection in connections.all(initialized_only=True):
        connection.connection = None
        connection.close()


class ProgressBar:
    """A plain-text progress bar: redrawn in place on a terminal, one line per step otherwise."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.done = 0
        self.redraw = stream.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        filled = self.width * self.done // max(self.total, 1)
        line = f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {label}"
        if self.redraw:
            end = "\n" if self.done == self.total else ""
            self.stream.write(f"\r\033[K{line}{end}")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Migrate the public schema, then every network schema in parallel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=2, help="worker processes for network schemas"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"]
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        started = time.perf_counter()
        self.stderr.write("Migrating the public schema...")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        schemas = list(network_list().values_list("schema_name", flat=True))
        self.stderr.write(f"Migrating {len(schemas)} network schemas with {workers} workers...")
        failures = self._migrate_networks(schemas, workers)
        if failures:
            for schema_name, error in failures:
                self.stderr.write(f"  {schema_name} left unchanged: {error}")
            raise CommandError(
                f"{len(failures)} of {len(schemas)} network schemas failed to migrate and were "
                "left as they were; the others are migrated. Fix the cause and run again."
            )
        template = schema_template_current()
        self.stdout.write(
            f"Migrated the public schema and {len(schemas)} network schemas in "
            f"{time.perf_counter() - started:.1f}s; network template {template.state[:12]} ready."
        )

    def _migrate_networks(self, schemas: list[str], workers: int) -> list[tuple[str, str]]:
        if not schemas:
            return []
        bar = ProgressBar(len(schemas), sys.stderr)
        failures = []
        # Close this process's connections before forking, so no worker inherits them.
        connections.close_all()
        context = multiprocessing.get_context("fork")
        with context.Pool(processes=min(workers, len(schemas)), initializer=_worker_start) as pool:
            for schema_name, error in pool.imap_unordered(_migrate_one, schemas):
                bar.step(f"{schema_name} {'FAILED' if error else 'ok'}")
                if error:
                    failures.append((schema_name, error))
        return failures

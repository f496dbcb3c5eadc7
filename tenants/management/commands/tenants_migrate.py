"""`hexitime tenants migrate`: migrate the public schema, then every network schema behind.

Only the network schemas whose recorded migration state differs from this version's are
touched (tenants.services.fleet): with nothing new, that is one query. Those behind migrate in
parallel worker processes, each schema in its own transaction, mostly by replaying the
SQL Django plans once per group of schemas at the same point: a run killed half-way
leaves every schema either fully migrated (and recorded so) or untouched, and running the
command again finishes the job. Progress and an estimate of the time left are printed.
Afterwards the provisioning template for the new migration state is captured, so the next
network created does not pay for it.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from tenants.services.fleet import FleetMigration, SchemaOutcome, fleet_migrate
from tenants.services.schemas import schema_template_current


class ProgressBar:
    """A plain-text progress bar with the time left: redrawn in place on a terminal;
    otherwise one line about every 5% (and for every failure)."""

    def __init__(self, total: int, stream: OutputWrapper, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.done = 0
        self.started = time.perf_counter()
        self.redraw = stream.isatty()
        self.every = max(1, total // 20)

    def step(self, label: str, *, failed: bool = False) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        filled = self.width * self.done // max(self.total, 1)
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} "
            f"{elapsed:.0f}s, about {left:.0f}s left  {label}"
        )
        if self.redraw:
            end = "\n" if self.done == self.total else ""
            self.stream.write(f"\r\033[K{line}", ending=end)
        elif failed or self.done % self.every == 0 or self.done == self.total:
            self.stream.write(line)
        self.stream.flush()


class Command(BaseCommand):
    help = "Migrate the public schema, then every network schema behind, in parallel."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--workers", type=int, default=2, help="worker processes for network schemas"
        )
        parser.add_argument(
            "--every-schema",
            action="store_true",
            help="look at every network schema, not only those whose recorded migration "
            "state is behind (after a schema was migrated by hand)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workers = options["workers"]
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        started = time.perf_counter()
        self.stderr.write("Migrating the public schema...")
        call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
        bar: list[ProgressBar] = []

        def planned(result: FleetMigration) -> None:
            self.stderr.write(
                f"{result.current} network schemas already at migration state "
                f"{result.state[:12]}; migrating {result.behind} with {workers} workers..."
            )
            bar.append(ProgressBar(result.behind, self.stderr))

        def finished(outcome: SchemaOutcome) -> None:
            how = "replayed" if outcome.replayed else "migrated"
            bar[0].step(
                f"{outcome.schema_name} {'FAILED' if outcome.error else how}",
                failed=bool(outcome.error),
            )

        result = fleet_migrate(
            workers=workers,
            every_schema=options["every_schema"],
            on_planned=planned,
            on_schema=finished,
        )
        if result.failures:
            for failure in result.failures:
                self.stderr.write(f"  {failure.schema_name} left unchanged: {failure.error}")
            raise CommandError(
                f"{len(result.failures)} of {result.behind} network schemas failed to migrate "
                "and were left as they were; the others are migrated. Fix the cause and run "
                "again."
            )
        template = schema_template_current()
        total = result.current + result.behind
        self.stdout.write(
            f"Migrated the public schema and {result.behind} of {total} network schemas "
            f"({result.replayed} by replayed SQL, {result.migrated} by migrate; "
            f"{result.current} already current) in {time.perf_counter() - started:.1f}s; "
            f"network template {template.state[:12]} ready."
        )

"""`hexitime tenants migrate` over many networks: nothing to do, and one new migration.

    hexitime bench migrate [--networks 2000] [--workers 2] [--rounds 1] [--noop-rounds 3]
                           [--no-theirs]
    PYTHONPATH=.:platform python bench/migrate.py [...]      (DATABASE_URL set)

In a scratch database on the server DATABASE_URL names (through `hexitime bench`, the
embedded PostgreSQL when it is unset), dropped at the end:

  1. prints what one network schema costs the catalog: relations, indexes, triggers
     (internal foreign-key triggers counted apart), functions, and the bytes pg_catalog
     grows by per network (measured over all the networks the bench creates);
  2. creates --networks networks from the template (schemas replayed in batches, rows
     bulk-inserted, each recorded at the current migration state; progress shown — this
     setup is the slow part: each schema costs more as the catalog grows, about 20
     minutes at 2,000 on a quiet 2-core machine);
  3. times `hexitime tenants migrate` with nothing to do, --noop-rounds times (target:
     the median < 15 s at 2,000);
  4. adds one throwaway additive migration at run time (a nullable column on
     notifications.Notification, put into Django's migration loader, no file written) and
     times the network schemas' part of `hexitime tenants migrate` (ours:
     tenants.services.fleet.fleet_migrate), then adds another and times django-tenants'
     `migrate_schemas --tenant --executor multiprocessing` with the same number of
     processes (theirs); --rounds alternates ours and theirs that many times, a new
     migration each time. Target: theirs / ours >= 5. The rest of our command (public
     schema, capturing the new template: a cost per release, not per network) is timed
     and printed on its own.

Prints the load average beside each figure: the machine may be shared.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from hexitime.scratch import scratch_database

BATCH = 20  # schemas built per transaction in the setup
NOOP_TARGET_S = 15.0
SPEEDUP_TARGET = 5.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/migrate.py", description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="processes, ours and theirs")
    parser.add_argument("--rounds", type=int, default=1, help="ours/theirs pairs")
    parser.add_argument("--noop-rounds", type=int, default=3, help="no-op runs timed")
    parser.add_argument(
        "--theirs",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time django-tenants' executor (--no-theirs: ours only, no ratio; at "
        "2,000 networks theirs takes most of an hour)",
    )
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.base"  # DEBUG off
    os.environ["HEXITIME_SPARE_SCHEMAS"] = "0"
    with scratch_database("hx_bench_migrate") as scratch:
        print(
            f"PostgreSQL {scratch.server_version}; {options.networks} networks, "
            f"{options.workers} workers; {load()}",
            flush=True,
        )
        run(options)


def run(options: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import override_settings

    from tenants.services.networks import platform_bootstrap
    from tenants.services.schemas import schema_template_current

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    schema_template_current()
    catalog_before = _catalog_bytes()
    networks_create(options.networks)
    per_network = (_catalog_bytes() - catalog_before) / max(options.networks, 1)
    _catalog_print(per_network)

    noops = []
    for round_ in range(options.noop_rounds):
        seconds, at = _timed(lambda: _tenants_migrate(options.workers))
        noops.append(seconds)
        print(f"  no-op round {round_ + 1}: {seconds:.2f} s; {at}", flush=True)
    noop = statistics.median(noops)
    print(
        f"no-op migrate over {options.networks} networks: {noop:.2f} s (median of "
        f"{len(noops)}; target < {NOOP_TARGET_S:.0f} s at 2,000: "
        f"{_verdict(noop < NOOP_TARGET_S)}); {load()}",
        flush=True,
    )

    ours: list[float] = []
    theirs: list[float] = []
    for round_ in range(options.rounds):
        _migration_add()
        seconds, at = _timed(lambda: _fleet_migrate(options.workers, options.networks))
        ours.append(seconds)
        print(f"  round {round_ + 1}, ours:   {seconds:7.1f} s; {at}", flush=True)
        rest, at = _timed(lambda: _tenants_migrate(options.workers))
        print(
            f"  round {round_ + 1}, the rest of `tenants migrate` (public schema, no schema "
            f"behind, capturing the new template): {rest:.1f} s; {at}",
            flush=True,
        )
        if not options.theirs:
            continue
        _migration_add()
        with override_settings(TENANT_MULTIPROCESSING_MAX_PROCESSES=options.workers):
            seconds, at = _timed(
                lambda: call_command(
                    "migrate_schemas",
                    tenant=True,
                    executor="multiprocessing",
                    interactive=False,
                    verbosity=0,
                )
            )
        theirs.append(seconds)
        print(f"  round {round_ + 1}, theirs: {seconds:7.1f} s; {at}", flush=True)
        _check_all_migrated(options.networks)
    if not theirs:
        print(
            f"one additive migration over {options.networks} networks: ours "
            f"{statistics.median(ours):.1f} s (median of {options.rounds}); django-tenants' "
            f"executor not timed (--no-theirs), so no ratio; {load()}"
        )
        return
    ratio = statistics.median(theirs) / statistics.median(ours)
    print(
        f"one additive migration over {options.networks} networks: ours "
        f"{statistics.median(ours):.1f} s, django-tenants multiprocessing "
        f"{statistics.median(theirs):.1f} s (median of {options.rounds}): {ratio:.1f}x "
        f"(target >= {SPEEDUP_TARGET:.0f}x: {_verdict(ratio >= SPEEDUP_TARGET)}); {load()}"
    )


def _tenants_migrate(workers: int) -> None:
    """`hexitime tenants migrate --workers N`, its output discarded."""
    from django.core.management import call_command

    call_command("tenants_migrate", workers=workers, stdout=io.StringIO(), stderr=io.StringIO())


def _fleet_migrate(workers: int, networks: int) -> None:
    """The network schemas' part of `tenants migrate`, what django-tenants' executor does."""
    from tenants.services.fleet import fleet_migrate

    result = fleet_migrate(workers=workers)
    if result.failures or result.replayed != networks:
        raise RuntimeError(f"not every schema was replayed: {result}")


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _timed(work: Callable[[], object]) -> tuple[float, str]:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started, load()


def networks_create(count: int) -> None:
    """`count` networks built from the template, BATCH schemas per transaction, each row
    recorded at the template's state (what network_create does, without the sign-up
    checks and one transaction per network)."""
    from django.db import transaction

    from kernel.db import connection
    from tenants.models import Domain, Network, schema_name_for
    from tenants.services.schemas import schema_build, schema_template_current
    from tenants.services.slugs import network_domain

    template = schema_template_current()
    started = last = time.perf_counter()
    last_done = 0
    for start in range(0, count, BATCH):
        slugs = [f"bench-{n}" for n in range(start, min(start + BATCH, count))]
        with transaction.atomic():
            for slug in slugs:
                schema_build(schema_name_for(slug), template)
            connection.set_schema_to_public()
            networks = Network.objects.bulk_create(
                Network(
                    slug=slug,
                    name=slug,
                    schema_name=schema_name_for(slug),
                    migration_state=template.state,
                )
                for slug in slugs
            )
            Domain.objects.bulk_create(
                Domain(domain=network_domain(n.slug), tenant=n, is_primary=True) for n in networks
            )
        done = start + len(slugs)
        if done % max(BATCH, count // 10 // BATCH * BATCH) == 0 or done == count:
            # A schema costs more the larger the catalog already is: the time left is
            # estimated at the last stretch's rate, not the average since the start.
            now = time.perf_counter()
            rate = (now - last) / (done - last_done)
            last, last_done = now, done
            print(
                f"  setup: {done}/{count} networks, {now - started:.0f}s, at least "
                f"{rate * (count - done):.0f}s left ({rate * 1000:.0f} ms a network); "
                f"{load()}",
                flush=True,
            )


def _catalog_bytes() -> int:
    from kernel.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(pg_total_relation_size(oid)) FROM pg_class"
            " WHERE relnamespace = 'pg_catalog'::regnamespace AND relkind = 'r'"
        )
        return int(cursor.fetchone()[0])


CATALOG_COUNTS = """
SELECT
  (SELECT count(*) FROM pg_class WHERE relnamespace = %(s)s::regnamespace),
  (SELECT count(*) FROM pg_class WHERE relnamespace = %(s)s::regnamespace AND relkind = 'r'),
  (SELECT count(*) FROM pg_class WHERE relnamespace = %(s)s::regnamespace AND relkind = 'i'),
  (SELECT count(*) FROM pg_class WHERE relnamespace = %(s)s::regnamespace AND relkind = 'S'),
  (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = %(s)s::regnamespace AND NOT t.tgisinternal),
  (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = %(s)s::regnamespace AND t.tgisinternal),
  (SELECT count(*) FROM pg_proc WHERE pronamespace = %(s)s::regnamespace),
  (SELECT count(*) FROM pg_constraint WHERE connamespace = %(s)s::regnamespace)
"""


def _catalog_print(per_network_bytes: float) -> None:
    from kernel.db import connection

    with connection.cursor() as cursor:
        cursor.execute(CATALOG_COUNTS, {"s": "net_bench_0"})
        relations, tables, indexes, sequences, triggers, internal, functions, constraints = (
            cursor.fetchone()
        )
    print(
        f"catalog per network schema: {relations} relations ({tables} tables, {indexes} "
        f"indexes, {sequences} sequences, the rest TOAST tables and their indexes), "
        f"{triggers} triggers + {internal} internal foreign-key triggers, {functions} "
        f"functions, {constraints} constraints; pg_catalog grows "
        f"{per_network_bytes / 1024 / 1024:.2f} MB per network; {load()}",
        flush=True,
    )


_added: list[Any] = []


def _migration_add() -> None:
    """Put one more additive migration (a nullable column, no rewrite) into Django's
    migration loader, after the app's leaf; forked workers inherit it."""
    from django.db import migrations, models
    from django.db.migrations.loader import MigrationLoader

    import tenants.services.schemas

    if not _added:
        original = MigrationLoader.load_disk

        def load_disk(self: MigrationLoader) -> None:
            original(self)
            for migration in _added:
                self.disk_migrations[(migration.app_label, migration.name)] = migration

        MigrationLoader.load_disk = load_disk  # type: ignore[method-assign]
    (leaf,) = MigrationLoader(None).graph.leaf_nodes("notifications")
    number = len(_added) + 1
    operation = migrations.AddField(
        "notification", f"bench_{number}", models.BooleanField(null=True)
    )
    body = {"dependencies": [leaf], "operations": [operation]}
    migration_class = type("Migration", (migrations.Migration,), body)
    migration = migration_class(f"9{number:03d}_bench_additive", "notifications")
    _added.append(migration)
    tenants.services.schemas._migration_state.cache_clear()


def _check_all_migrated(count: int) -> None:
    """Every network schema has the last column added: the runs really migrated."""
    from kernel.db import connection

    column = f"bench_{len(_added)}"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'notifications_notification' AND column_name = %s"
            " AND table_schema LIKE 'net_bench_%%'",
            [column],
        )
        found = cursor.fetchone()[0]
    if found != count:
        raise RuntimeError(f"{found} of {count} schemas have {column}")


if __name__ == "__main__":
    main()

"""Time to provision one network by each route, as the number of networks grows.

    PYTHONPATH=.:platform python bench/provision.py        (DATABASE_URL set)
    hexitime bench provision

Routes, each run in the same process against the same server:
  ours     tenants.services.network_create: the migrated template's SQL replayed in one
           round trip (network row, domain and schema in one transaction)
  migrate  CREATE SCHEMA + `migrate_schemas --schema` (TenantMixin.create_schema without
           TENANT_CREATION_FAKES_MIGRATIONS)
  clone    django-tenants' clone_schema from TENANT_BASE_SCHEMA, then migrations faked
           (TenantMixin.create_schema with TENANT_CREATION_FAKES_MIGRATIONS)

Everything happens in a scratch database created at the start and dropped at the end.
The networks that "already exist" are created through our route.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROUTES = ("ours", "migrate", "clone")
BASE_SCHEMA = "bench_clone_base"


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/provision.py")
    parser.add_argument("--levels", default="1,100,500", help="networks existing before timing")
    parser.add_argument("--repeat", type=int, default=5, help="measurements per route and level")
    options = parser.parse_args()
    levels = [int(n) for n in options.levels.split(",")]

    url = os.environ.get("DATABASE_URL")
    if not url:
        print("bench/provision.py: set DATABASE_URL to a PostgreSQL server", file=sys.stderr)
        return 2
    scratch = f"hx_bench_provision_{os.getpid()}"
    parts = urlsplit(url)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{scratch}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.test"
    try:
        return run(levels, options.repeat)
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(scratch)))


def run(levels: list[int], repeat: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    from hexitime.db import connection
    from tenants.models import Domain, Network
    from tenants.services import (
        network_create,
        network_domain,
        platform_bootstrap,
        schema_template_current,
    )

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    template = schema_template_current()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(BASE_SCHEMA)))
    call_command("migrate_schemas", schema_name=BASE_SCHEMA, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    print(
        f"Template: {template.statement_count} statements; "
        f"setup {time.perf_counter() - started:.1f}s",
        flush=True,
    )

    counter = iter(range(1_000_000))

    def timed(route: str) -> float:
        slug = f"{route}-{next(counter)}"
        begin = time.perf_counter()
        if route == "ours":
            network_create(slug=slug, name=slug)
        else:
            network = Network(slug=slug, name=slug, schema_name=slug.replace("-", "_"))
            network.save()
            Domain.objects.create(domain=network_domain(slug), tenant=network, is_primary=True)
            with override_settings(
                TENANT_CREATION_FAKES_MIGRATIONS=route == "clone", TENANT_BASE_SCHEMA=BASE_SCHEMA
            ):
                network.create_schema(verbosity=0)
        elapsed = time.perf_counter() - begin
        connection.set_schema_to_public()
        Network.objects.get(slug=slug).delete()  # drops the schema: the count stays put
        return elapsed * 1000

    results: dict[int, dict[str, float]] = {}
    existing = 0
    for level in levels:
        while existing < level:
            network_create(slug=f"existing-{existing}", name=f"Existing {existing}")
            existing += 1
        samples: dict[str, list[float]] = {route: [] for route in ROUTES}
        # Route by route: clone_schema churns the catalog so much that the server is
        # still busy (autovacuum) when the next measurement starts; interleaving would
        # charge that to whichever route comes next.
        for route in ROUTES:
            for _ in range(repeat):
                samples[route].append(timed(route))
        results[level] = {route: statistics.median(samples[route]) for route in ROUTES}
        print(
            f"  {level} networks: "
            + ", ".join(f"{route} {results[level][route]:.0f} ms" for route in ROUTES),
            flush=True,
        )

    _print_table(results, repeat)
    print(f"\nTotal {time.perf_counter() - started:.0f}s")
    return 0


def _print_table(results: dict[int, dict[str, float]], repeat: int) -> None:
    print(f"\nTime to provision one network (median of {repeat}, ms)\n")
    header = (
        f"{'existing':>9} {'ours':>8} {'migrate':>9} {'clone':>8} "
        f"{'migrate/ours':>13} {'clone/ours':>11}"
    )
    print(header)
    print("-" * len(header))
    for level, row in results.items():
        print(
            f"{level:>9} {row['ours']:>8.0f} {row['migrate']:>9.0f} {row['clone']:>8.0f} "
            f"{row['migrate'] / row['ours']:>12.1f}x {row['clone'] / row['ours']:>10.1f}x"
        )


if __name__ == "__main__":
    sys.exit(main())

"""Provisioning one network, three ways, as the number of networks grows.

    hexitime bench provision [--levels 1,100,500] [--repeat 3]
    PYTHONPATH=.:platform python bench/provision.py [...]     (DATABASE_URL set)

Creates a scratch database on the server DATABASE_URL names (through `hexitime bench`, the
embedded PostgreSQL when it is unset), migrates the public schema, and then, with 1, 100
and 500 networks already present (created by our route, which is the fast one), times
provisioning one more network by each route:

  spare     tenants.services.network_create with a spare schema waiting (ours, as in
            production, where a Celery task refills spares after each sign-up): the spare is
            renamed into place. The refill is done, untimed, before each run
  template  tenants.services.network_create with no spare waiting (ours, fallback): the
            schema's SQL captured once per migration state, replayed in one round trip
  migrate   django-tenants' auto_create_schema path: CREATE SCHEMA, then migrate_schemas
            for that one schema (TENANT_CREATION_FAKES_MIGRATIONS off)
  clone     django-tenants' clone_schema path: copy TENANT_BASE_SCHEMA with its
            clone_schema() PL/pgSQL function, then fake the migrations

Each route includes writing the network and domain rows. Each figure is the median of
--repeat runs; the network is dropped after each run, so the count stays put. Prints a
table and the ratios of the other routes to ours. The scratch database is dropped
afterwards.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

from hexitime.scratch import scratch_database

BASE_SCHEMA = "_bench_clone_base"
ROUTES = ("spare", "template", "migrate", "clone")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,100,500", help="networks present (ascending)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per route and size")
    options = parser.parse_args()
    sizes = sorted(int(s) for s in options.levels.split(","))

    with scratch_database("hx_bench_provision") as scratch:
        version = scratch.server_version
        results, statements, migrations = measure(sizes, options.repeat)

    print(
        f"\nProvisioning one network (ms, median of {options.repeat}); PostgreSQL {version}; "
        f"{migrations} tenant migrations, template of {statements} statements"
    )
    print(f"{'networks present':>17}" + "".join(f"{route:>10}" for route in ROUTES)
          + f" {'migrate/spare':>14} {'clone/spare':>12} {'migrate/template':>17}")  # fmt: skip
    for size in sizes:
        row = results[size]
        print(
            f"{size:>17}" + "".join(f"{row[route]:>10.1f}" for route in ROUTES)
            + f" {row['migrate'] / row['spare']:>13.1f}x {row['clone'] / row['spare']:>11.1f}x"
            f" {row['migrate'] / row['template']:>16.1f}x"
        )  # fmt: skip
    for route in ("spare", "template"):
        ours = [results[size][route] for size in sizes]
        speedup = min(results[size]["migrate"] / results[size][route] for size in sizes)
        print(
            f"{route:>8}: max {max(ours):6.1f} ms (target < 200), largest/smallest size "
            f"{ours[-1] / ours[0]:.2f} (flat ~ 1), min speed-up over migrate {speedup:.1f}x "
            "(target >= 3)"
        )


def measure(sizes: list[int], repeat: int) -> tuple[dict[int, dict[str, float]], int, int]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.base"  # DEBUG off, as in production
    os.environ["HEXITIME_SPARE_SCHEMAS"] = "0"  # refilled here, untimed, not by a worker
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    from hexitime.db import connection
    from tenants.models import Domain, Network, schema_name_for
    from tenants.services import (
        network_create,
        network_domain,
        platform_bootstrap,
        schema_build,
        schema_spares_fill,
        schema_template_current,
    )

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    template = schema_template_current()
    with transaction.atomic():
        schema_build(BASE_SCHEMA, template)  # the migrated schema clone_schema copies
    connection.set_schema_to_public()
    migrations = _tenant_migration_count()

    def by_django_tenants(slug: str, *, clone: bool) -> None:
        with override_settings(
            TENANT_CREATION_FAKES_MIGRATIONS=clone, TENANT_BASE_SCHEMA=BASE_SCHEMA
        ):
            network = Network.objects.create(
                slug=slug, name=slug, schema_name=schema_name_for(slug)
            )
            Domain.objects.create(domain=network_domain(slug), tenant=network, is_primary=True)
            network.create_schema(check_if_exists=False, verbosity=0)

    routes: dict[str, Callable[[str], object]] = {
        "spare": lambda slug: network_create(slug=slug, name=slug),
        "template": lambda slug: network_create(slug=slug, name=slug),
        "migrate": lambda slug: by_django_tenants(slug, clone=False),
        "clone": lambda slug: by_django_tenants(slug, clone=True),
    }
    results: dict[int, dict[str, float]] = {}
    present = 0
    serial = 0
    for size in sizes:
        while present < size:
            network_create(slug=f"existing-{present}", name=f"Existing {present}")
            present += 1
        results[size] = {}
        for route in ROUTES:
            timings = []
            for _ in range(repeat):
                serial += 1
                slug = f"measured-{route}-{serial}"
                if route == "spare":
                    schema_spares_fill(count=1)
                started = time.perf_counter()
                routes[route](slug)
                timings.append((time.perf_counter() - started) * 1000)
                connection.set_schema_to_public()
                Network.objects.get(slug=slug).delete(force_drop=True)
            results[size][route] = statistics.median(timings)
            shown = ", ".join(f"{t:.0f}" for t in timings)
            print(f"  {size:>4} networks, {route:<8}: {shown} ms", flush=True)
    return results, template.statement_count, migrations


def _tenant_migration_count() -> int:
    from django.apps import apps
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    labels = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    return sum(1 for label, _ in MigrationLoader(None).graph.nodes if label in labels)


if __name__ == "__main__":
    main()

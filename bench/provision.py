"""Provisioning one network, three ways, as the number of networks grows.

    hexitime bench provision [--levels 1,100,500] [--repeat 3] [--members 20]
    PYTHONPATH=.:platform python bench/provision.py [...]     (DATABASE_URL set)

Creates a scratch database on the server DATABASE_URL names (through `hexitime bench`, the
embedded PostgreSQL when it is unset), migrates the public schema, and then, with 1, 100
and 500 networks already present (created by our route, which is the fast one, each with
--members members who received their welcome gift through the ledger and a listing
each), times provisioning one more network by each route:

  spare     tenants.services.networks.network_create with a spare schema waiting (ours, as in
            production, where a Celery task refills spares after each sign-up): the spare is
            renamed into place. What the organiser waits for
  refill    building the spare that run used up again (schema_spares_fill), which the
            Celery task does after each sign-up: timed on its own, and added to `spare`
            in the `spare+refill` column, what a sign-up costs the database in all
  template  tenants.services.networks.network_create with no spare waiting (ours, fallback): the
            schema's SQL captured once per migration state, replayed in one round trip
  migrate   django-tenants' auto_create_schema path: CREATE SCHEMA, then migrate_schemas
            for that one schema (TENANT_CREATION_FAKES_MIGRATIONS off)
  clone     django-tenants' clone_schema path: copy TENANT_BASE_SCHEMA with its
            clone_schema() PL/pgSQL function, then fake the migrations

Each route includes writing the network and domain rows. Each figure is the median of
--repeat runs; the network is dropped after each run (staff deleting a network: the rows
and DROP SCHEMA ... CASCADE), so the count stays put, and that drop is timed too (`drop`).
The routes are timed on a session opened after the networks were populated. After each
size, a template build and a drop are timed again on a session that has just posted in
every network: the worst a pooled session can be (docs/decisions.md).
Prints a table, the ratios of the other routes to ours, each target beside its measured
value with "met" or "MISSED" and, when missed, the load average at the end. The
scratch database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import time
from collections.abc import Callable

from hexitime.scratch import scratch_database

BASE_SCHEMA = "_bench_clone_base"
ROUTES = ("spare", "template", "migrate", "clone")
COLUMNS = ("spare", "refill", "spare+refill", "template", "migrate", "clone", "drop")
TARGET_MS = 200  # a sign-up's wait, and a network's drop
TARGET_FLAT = 1.5  # largest size / smallest: "flat ~ 1"
TARGET_SPEEDUP = 3


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def verdict(met: bool) -> str:
    return "met" if met else f"MISSED (the machine at {load()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,100,500", help="networks present (ascending)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per route and size")
    parser.add_argument("--members", type=int, default=20, help="members per existing network")
    options = parser.parse_args()
    sizes = sorted(int(s) for s in options.levels.split(","))

    with scratch_database("hx_bench_provision") as scratch:
        version = scratch.server_version
        results, worn, statements, migrations = measure(sizes, options.repeat, options.members)

    print(
        f"\nProvisioning one network (ms, median of {options.repeat}); PostgreSQL {version}; "
        f"{migrations} tenant migrations, template of {statements} statements; "
        f"{options.members} members per existing network; {load()}"
    )
    print(
        f"{'networks present':>17}"
        + "".join(f"{c:>13}" for c in COLUMNS)
        + f" {'migrate/spare':>14} {'clone/spare':>12} {'migrate/template':>17}"
    )
    for size in sizes:
        row = results[size]
        print(
            f"{size:>17}"
            + "".join(f"{row[c]:>13.1f}" for c in COLUMNS)
            + f" {row['migrate'] / row['spare']:>13.1f}x {row['clone'] / row['spare']:>11.1f}x"
            f" {row['migrate'] / row['template']:>16.1f}x"
        )
    print("Targets (ours):")
    for route in ("spare", "spare+refill", "template", "drop"):
        ours = [results[size][route] for size in sizes]
        flat = ours[-1] / ours[0]
        print(
            f"  {route:>12}: max {max(ours):7.1f} ms vs target < {TARGET_MS}: "
            f"{verdict(max(ours) < TARGET_MS)}; largest/smallest size {flat:.2f} vs target "
            f"< {TARGET_FLAT} (flat): {verdict(flat < TARGET_FLAT)}"
        )
    for route in ("spare", "spare+refill", "template"):
        speedup = min(results[size]["migrate"] / results[size][route] for size in sizes)
        print(
            f"  {route:>12}: min speed-up over migrate {speedup:.1f}x vs target >= "
            f"{TARGET_SPEEDUP}: {verdict(speedup >= TARGET_SPEEDUP)}"
        )
    print(
        "The routes above ran on a session that had not posted in the networks. On one that had\n"
        "just posted in every network (each network's ledger functions cache their own plans\n"
        "there, and PostgreSQL walks all of them for each relation DDL invalidates), median ms:"
    )
    for size in sizes:
        build, drop = worn[size]
        print(f"  {size:>5} networks: template {build:8.1f}, drop {drop:8.1f}")
    print(
        f"  A build (refill, template) replays the template's {statements} statements, most of\n"
        "  their time CREATE TABLE, CREATE INDEX and foreign keys (docs/decisions.md), and\n"
        "  waits for CPU on a busy machine; `spare` is two statements and is what a sign-up\n"
        "  waits for."
    )


def measure(
    sizes: list[int], repeat: int, members: int
) -> tuple[dict[int, dict[str, float]], dict[int, tuple[float, float]], int, int]:
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.base"  # DEBUG off, as in production
    os.environ["HEXITIME_SPARE_SCHEMAS"] = "0"  # refilled here, untimed, not by a worker
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    from kernel.db import connection
    from tenants.models import Domain, Network, schema_name_for
    from tenants.services.networks import network_create, platform_bootstrap
    from tenants.services.schemas import schema_build, schema_spares_fill, schema_template_current
    from tenants.services.slugs import network_domain

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
    worn: dict[int, tuple[float, float]] = {}
    rng = random.Random(14)
    present = 0
    serial = 0
    for size in sizes:
        while present < size:
            network = network_create(slug=f"existing-{present}", name=f"Existing {present}")
            _populate(network, members, rng)
            present += 1
        connection.close()  # a session that has not posted in the networks it populated
        print(f"  {size} networks present, {members} members each; {load()}", flush=True)
        timings: dict[str, list[float]] = {column: [] for column in COLUMNS}
        for route in ROUTES:
            for _ in range(repeat):
                serial += 1
                slug = f"measured-{route}-{serial}"
                if route == "spare":
                    schema_spares_fill(count=1)  # untimed: it belongs to the previous run
                timings[route].append(_elapsed_ms(functools.partial(routes[route], slug)))
                connection.set_schema_to_public()
                if route == "spare":
                    # The refill this sign-up causes.
                    timings["refill"].append(
                        _elapsed_ms(functools.partial(schema_spares_fill, count=1))
                    )
                    spent = timings["spare"][-1] + timings["refill"][-1]
                    timings["spare+refill"].append(spent)
                    _spares_drop()
                timings["drop"].append(_elapsed_ms(functools.partial(_network_drop, slug)))
        results[size] = {c: statistics.median(timings[c]) for c in COLUMNS}
        for column in COLUMNS:
            shown = ", ".join(f"{t:.0f}" for t in timings[column])
            print(f"  {size:>4} networks, {column:<12}: {shown} ms; {load()}", flush=True)
        worn[size] = _on_a_worn_session(size, repeat, members, rng)
    return results, worn, template.statement_count, migrations


def _on_a_worn_session(
    size: int, repeat: int, members: int, rng: random.Random
) -> tuple[float, float]:
    """A template build and a drop on a session that has just posted in every network.

    Each network's ledger functions are its own, so such a session holds about 22 cached
    plans per network, and PostgreSQL walks them all for each relation DDL invalidates
    (docs/decisions.md). A worker's session through PgBouncer is pooled and can be this one.
    Returns the medians: (template, drop)."""
    from kernel.db import connection
    from tenants.models import Network
    from tenants.services.networks import network_create

    connection.close()
    for network in Network.objects.filter(slug__startswith="existing-"):
        _populate(network, 1, rng, first=members + size)
    connection.set_schema_to_public()
    builds, drops = [], []
    for run in range(repeat):
        slug = f"worn-{size}-{run}"
        builds.append(_elapsed_ms(functools.partial(network_create, slug=slug, name=slug)))
        connection.set_schema_to_public()
        drops.append(_elapsed_ms(functools.partial(_network_drop, slug)))
    print(
        f"  {size:>4} networks, on a session that posted in each: template "
        f"{', '.join(f'{t:.0f}' for t in builds)} ms, drop "
        f"{', '.join(f'{t:.0f}' for t in drops)} ms; {load()}",
        flush=True,
    )
    return statistics.median(builds), statistics.median(drops)


def _elapsed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _network_drop(slug: str) -> None:
    """Staff deleting a network: its rows and DROP SCHEMA ... CASCADE."""
    from tenants.models import Network

    Network.objects.get(slug=slug).delete(force_drop=True)


def _spares_drop() -> None:
    """Leave no spare behind, so the next route measures what it says."""
    from psycopg import sql

    from kernel.db import connection
    from tenants.models import SpareSchema

    for spare in SpareSchema.objects.all():
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(spare.name)))
        spare.delete()


def _populate(network: object, members: int, rng: random.Random, first: int = 0) -> None:
    """Members who joined and got their welcome gift (through the ledger), one listing
    each, so existing networks carry rows, indexes and ledger entries, not empty tables.
    Their addresses are numbered from `first`, so a network can be given more later."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from core.listings.demo import DEMO_LISTINGS
    from core.listings.models import Listing
    from core.members.demo import demo_profile
    from core.members.models import Member
    from ledger.services import gift_grant

    unusable = make_password(None)  # the bench never signs them in: no hashing
    with tenant_context(network):
        made = Member.objects.bulk_create(
            Member(
                email=f"member{first + n}@nhs.net",
                full_name=f"Member {first + n}",
                password=unusable,
                email_verified_at=timezone.now(),
                **demo_profile(rng),
            )
            for n in range(members)
        )
        for member in made:
            gift_grant(member=member)
        listings = []
        for member in made:
            kind, category, fmt, minutes, title, description = rng.choice(DEMO_LISTINGS)
            listings.append(
                Listing(
                    owner=member,
                    kind=kind,
                    category=category,
                    format=fmt,
                    duration_minutes=minutes,
                    title=title,
                    description=description,
                )
            )
        Listing.objects.bulk_create(listings)


def _tenant_migration_count() -> int:
    from django.apps import apps
    from django.conf import settings
    from django.db.migrations.loader import MigrationLoader

    labels = {c.label for c in apps.get_app_configs() if c.name in settings.TENANT_APPS}
    return sum(1 for label, _ in MigrationLoader(None).graph.nodes if label in labels)


if __name__ == "__main__":
    main()

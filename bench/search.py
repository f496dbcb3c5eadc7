"""Listing search and the member's home page, with 4,000 members and 10,000 listings.

    hexitime bench search [--members 4000] [--listings 10000] [--repeat 200]
    PYTHONPATH=.:platform python bench/search.py [...]        (DATABASE_URL set)

Builds one network in a scratch database on the server DATABASE_URL names (through
`hexitime bench`, the embedded PostgreSQL when it is unset), created at the start and
dropped at the end, bulk-creates the members and listings, then times requests through
Django's test client signed in as one member: full-text searches through the API and the
browse page, the dashboard (the network's home page), and the sign-in page as a trivial
baseline, all in the same run. Prints p50/p95 in milliseconds and each against the
baseline.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from hexitime.scratch import scratch_database

if TYPE_CHECKING:
    from core.listings.models import Listing

QUERIES = ["run charts", "sepsis teaching", "coaching band 7", "pdsa", "shadow pharmacist",
           "research protocol", "power bi dashboards", "mentoring nurses", "discharge",
           "schwartz rounds", "cannulation", "leadership business case"]  # fmt: skip
WORDS = ["ward", "team", "clinic", "theatre", "community", "acute", "frailty", "falls",
         "dementia", "sepsis", "discharge", "audit", "handover", "outpatient", "emergency",
         "paediatric", "maternity", "stroke", "cardiology", "renal", "rota", "induction",
         "simulation", "respiratory", "diabetes", "wound", "oncology"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/search.py")
    parser.add_argument("--members", type=int, default=4000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=200, help="requests per measurement")
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.test"
    with scratch_database("hx_bench_search"):
        return run(options)


def run(options: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.test import Client
    from django_tenants.utils import tenant_context

    from core.listings.demo import DEMO_LISTINGS
    from core.listings.models import Listing
    from core.members.demo import demo_profile
    from core.members.models import Member
    from hexitime.db import connection
    from ledger.services import gift_grant
    from tenants.services import network_create, network_domain, platform_bootstrap

    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    network = network_create(slug="bench", name="Bench network")
    rng = random.Random(4)
    with tenant_context(network):
        hashed = make_password("bench-password-123")
        members = Member.objects.bulk_create(
            (Member(email=f"member{n}@nhs.net", full_name=f"Member {n}", password=hashed,
                    **demo_profile(rng))
             for n in range(options.members)),
            batch_size=1000,
        )  # fmt: skip
        Member.objects.update(email_verified_at=django.utils.timezone.now())
        Listing.objects.bulk_create(
            (_listing(rng, members, DEMO_LISTINGS) for _ in range(options.listings)),
            batch_size=2000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        me = Member.objects.get(pk=members[0].pk)
        gift_grant(member=me)
        client = Client(HTTP_HOST=network_domain("bench"))
        client.force_login(me)
    connection.set_schema_to_public()
    print(f"{options.members:,} members, {options.listings:,} listings; "
          f"setup {time.perf_counter() - started:.1f}s", flush=True)  # fmt: skip

    def timed(paths: list[str]) -> list[float]:
        for path in paths[:10]:  # warm caches and connections
            _ok(client.get(path), path)
        samples = []
        for n in range(options.repeat):
            path = paths[n % len(paths)]
            begin = time.perf_counter()
            response = client.get(path)
            samples.append((time.perf_counter() - begin) * 1000)
            _ok(response, path)
        return samples

    results = {
        "baseline: sign-in page": timed(["/accounts/login/"]),
        "search API /api/v1/listings/?q=": timed(
            [f"/api/v1/listings/?{urlencode({'q': q})}" for q in QUERIES]
        ),
        "search page /listings/?q=": timed([f"/listings/?{urlencode({'q': q})}" for q in QUERIES]),
        "filtered browse (no text)": timed(["/api/v1/listings/?category=teaching&format=video"]),
        "dashboard /": timed(["/"]),
    }
    baseline = statistics.median(results["baseline: sign-in page"])
    print(f"\n{'':34} {'p50 ms':>8} {'p95 ms':>8} {'p50/baseline':>13}")
    for name, samples in results.items():
        p50 = statistics.median(samples)
        p95 = statistics.quantiles(samples, n=20)[18]
        print(f"{name:34} {p50:8.1f} {p95:8.1f} {p50 / baseline:13.1f}")
    search_p95 = statistics.quantiles(results["search API /api/v1/listings/?q="], n=20)[18]
    print(f"\nsearch API p95 {search_p95:.1f} ms (target < 50 ms); {options.repeat} requests "
          f"each; total {time.perf_counter() - started:.0f}s")  # fmt: skip
    return 0


def _ok(response: object, path: str) -> None:
    status = getattr(response, "status_code", 0)
    if status != 200:
        raise SystemExit(f"{path} answered {status}")


def _listing(rng: random.Random, members: list[Any], templates: list[Any]) -> Listing:
    from core.listings.models import Listing

    kind, category, fmt, minutes, title, description = rng.choice(templates)
    extra = " ".join(rng.sample(WORDS, 4))
    return Listing(
        owner=rng.choice(members), kind=kind, category=category, format=fmt,
        duration_minutes=minutes, title=f"{title} ({rng.choice(WORDS)})",
        description=f"{description} Context: {extra}.",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

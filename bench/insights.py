"""Network metrics for 4,000 members and 20,000 completed exchanges.

    hexitime bench insights [--members 4000] [--exchanges 20000] [--repeat 5]
    PYTHONPATH=.:platform python bench/insights.py [...]      (DATABASE_URL set)

Builds one network in a scratch database on the server DATABASE_URL names (through
`hexitime bench`, the embedded PostgreSQL when it is unset), created at the start and
dropped at the end, and bulk-creates members and completed exchanges shaped like a time
bank: most help stays within an organisation, some members give far more than others. Then
times, in the same run, what the Celery task `network_metrics_refresh` does (read the
exchanges and members, compute every metric: target < 1 s) against two baselines: reading
the exchanges alone, and exact betweenness (igraph's C core, every member a source) on the
same graph, which is what the metrics would cost without pivot sampling. Also times the
map's JSON payload for the whole history. Prints medians and ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable

from hexitime.scratch import scratch_database

TARGET_S = 1.0  # network metrics for 4,000 members and 20,000 exchanges


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/insights.py")
    parser.add_argument("--members", type=int, default=4000)
    parser.add_argument("--exchanges", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement")
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.test"
    with scratch_database("hx_bench_insights"):
        return run(options)


def run(options: argparse.Namespace) -> int:
    import django

    django.setup()
    import igraph
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from bench.common import (
        bench_exchange_completed,
        bench_members_create,
        bench_network_create,
        database_analyze,
        giver_weights,
    )
    from core.exchanges.models import Exchange
    from core.insights.graph import graph_build
    from core.insights.metrics import betweenness
    from core.insights.selectors.edges import network_edges
    from core.insights.selectors.map import DateRange, map_payload
    from core.insights.selectors.metrics import network_metrics_compute
    from core.listings.models import Listing
    from core.members.models import Member
    from kernel.db import connection

    started = time.perf_counter()
    network = bench_network_create()
    rng = random.Random(7)
    with tenant_context(network):
        members = bench_members_create(rng, options.members)
        by_org: dict[str, list[Member]] = {}
        for member in members:
            by_org.setdefault(member.organisation, []).append(member)
        givers = rng.choices(members, weights=giver_weights(len(members)), k=options.exchanges)
        listings = Listing.objects.bulk_create(
            (
                Listing(
                    owner=giver,
                    kind="offer",
                    title="Help",
                    description="Help",
                    category=rng.choice(Listing.Category.values),
                    format=rng.choice(Listing.Format.values),
                )
                for giver in {m.pk: m for m in givers}.values()
            ),
            batch_size=2000,
        )
        listing_of = {listing.owner_id: listing for listing in listings}
        now = timezone.now()

        def exchange(giver: Member) -> Exchange:
            # Most help stays within an organisation.
            pool = by_org[giver.organisation] if rng.random() < 0.6 else members
            return bench_exchange_completed(
                rng,
                listing=listing_of[giver.pk],
                giver_id=giver.pk,
                pool=pool,
                members=members,
                now=now,
            )

        Exchange.objects.bulk_create((exchange(g) for g in givers), batch_size=2000)
        database_analyze()
        print(
            f"{options.members:,} members, {options.exchanges:,} completed exchanges; "
            f"setup {time.perf_counter() - started:.1f}s",
            flush=True,
        )

        def timed(work: Callable[[], object]) -> tuple[list[float], str]:
            """`--repeat` timings of `work`, and the load average once they are done."""
            work()  # warm caches and connections
            samples = []
            for _ in range(options.repeat):
                begin = time.perf_counter()
                work()
                samples.append(time.perf_counter() - begin)
            return samples, load()

        edges = network_edges(dates=DateRange())
        folded = graph_build(edges)
        index = {party: i for i, party in enumerate(folded.nodes)}
        graph = igraph.Graph(n=len(index), edges=[(index[a], index[b]) for a, b in folded.links])
        metrics = network_metrics_compute()
        exact = betweenness(graph, pivots=len(index))
        members_at = {i: party.member_id for party, i in index.items()}
        top = {members_at[i] for i in sorted(range(len(exact)), key=lambda i: -exact[i])[:10]}
        agree = len(top & {broker["member_id"] for broker in metrics["brokers"]})
        results = {
            "baseline: read the exchanges": timed(lambda: network_edges(dates=DateRange())),
            "baseline: exact betweenness": timed(lambda: betweenness(graph, pivots=len(index))),
            "network metrics (the task)": timed(network_metrics_compute),
            "map JSON payload (a member)": timed(
                lambda: map_payload(viewer=members[0], edges=network_edges(dates=DateRange()))
            ),
        }
    connection.set_schema_to_public()
    print(
        f"graph: {len(folded.nodes):,} members, {len(folded.links):,} pairs; "
        f"{metrics['components']['count']} component(s); betweenness "
        f"{'estimated' if metrics['betweenness_estimated'] else 'exact'}, "
        f"{agree} of the exact top 10 brokers among the 10 listed"
    )
    task = statistics.median(results["network metrics (the task)"][0])
    print(f"\n{'':32} {'median s':>9} {'max s':>7} {'task / this':>12}  load average")
    for name, (samples, at) in results.items():
        median = statistics.median(samples)
        print(f"{name:32} {median:9.3f} {max(samples):7.3f} {task / median:12.2f}  {at}")
    verdict = "met" if task < TARGET_S else "MISSED"
    print(
        f"\nnetwork metrics median {task:.3f} s (target < {TARGET_S:.0f} s: {verdict}); "
        f"{options.repeat} runs each; total {time.perf_counter() - started:.0f}s; {load()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

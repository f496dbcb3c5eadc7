"""The set-up the benchmarks share; not a benchmark itself.

One network in the scratch database (`hexitime.scratch`), members with the demo's
profiles, and completed exchanges shaped like a time bank's: a few generous givers, dates
spread over two years. Call these after `django.setup()`; bench/insights.py and
bench/pages.py (so bench/search.py) build their data with them.
"""

from __future__ import annotations

import datetime
import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.exchanges.models import Exchange
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network

TWO_YEARS_MINUTES = 2 * 365 * 24 * 60


def bench_network_create() -> Network:
    """The public schema migrated, the platform bootstrapped and the one network "bench"."""
    from django.core.management import call_command

    from tenants.services.networks import network_create, platform_bootstrap

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    return network_create(slug="bench", name="Bench network")


def bench_members_create(rng: random.Random, count: int, **fields: Any) -> list[Member]:
    """`count` members member0@nhs.net... with demo profiles (and `fields`), in bulk."""
    from core.members.demo import demo_profile
    from core.members.models import Member

    return Member.objects.bulk_create(
        (
            Member(
                email=f"member{n}@nhs.net", full_name=f"Member {n}", **fields, **demo_profile(rng)
            )
            for n in range(count)
        ),
        batch_size=1000,
    )


def giver_weights(count: int) -> list[float]:
    """Weights for choosing givers: a few generous ones, falling off like 1/rank."""
    return [1 / (rank + 1) ** 0.7 for rank in range(count)]


def bench_exchange_completed(
    rng: random.Random,
    *,
    listing: Listing,
    giver_id: int,
    pool: list[Member],
    members: list[Member],
    now: datetime.datetime,
) -> Exchange:
    """A completed exchange (not saved) from `giver_id` to someone else from `pool` (or,
    when the pick is the giver, from `members`), completed in the two years before `now`."""
    from core.exchanges.models import Exchange, State

    receiver = rng.choice(pool)
    while receiver.pk == giver_id:
        receiver = rng.choice(members)
    when = now - datetime.timedelta(minutes=rng.randint(0, TWO_YEARS_MINUTES))
    return Exchange(
        listing=listing,
        giver_id=giver_id,
        receiver=receiver,
        state=State.COMPLETED,
        minutes=15 * rng.randint(1, 16),
        met_on=when.date(),
        completed_at=when,
    )


def database_analyze() -> None:
    """Fresh planner statistics after the bulk inserts."""
    from kernel.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

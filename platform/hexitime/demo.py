"""Demonstration networks for `hexitime up` and `hexitime demo`.

Each app contributes its own demo data through a seeding function called from here, so
the demonstration grows with the product.
"""

from __future__ import annotations

import random
from typing import TypedDict

from django.utils import timezone
from django_tenants.utils import tenant_context

from core.announcements.demo import announcements_seed
from core.campaigns.demo import campaign_seed
from core.cpd.demo import cpd_seed
from core.exchanges.demo import exchanges_seed
from core.giving.demo import giving_seed
from core.groupsessions.demo import sessions_seed
from core.insights.demo import equality_seed
from core.listings.demo import listings_seed, matches_seed
from core.members.demo import members_seed
from core.members.models import Member
from core.notifications.models import Notification
from core.projects.demo import projects_seed
from core.safety.demo import safety_seed
from core.stories.demo import stories_seed
from ledger.services import gifts_grant
from tenants.models import Network
from tenants.services.networks import network_create, platform_bootstrap
from theming.services import theme_update

DEMO_PASSWORD = "hexitime-demo"  # noqa: S105 - printed on screen for the demo
DEMO_NETWORKS = [
    ("oxford-ics", "Oxfordshire ICS", "ouh.nhs.uk"),
    ("wbs", "Warwick Business School", "warwick.ac.uk"),
]


class DemoTheme(TypedDict):
    primary_colour: str
    accent_colour: str
    welcome_headline: str
    welcome_text: str


DEMO_THEMES: dict[str, DemoTheme] = {
    "oxford-ics": {
        "primary_colour": "#005eb8",
        "accent_colour": "#007f3b",
        "welcome_headline": "Share what you know across Oxfordshire's health and care",
        "welcome_text": "Nurses, doctors, therapists, pharmacists, social care staff and managers "
        "from every organisation in the ICS, helping each other improve care. Give an hour, "
        "earn an hour.",
    },
    "wbs": {
        "primary_colour": "#552d62",
        "accent_colour": "#2f6b3a",
        "welcome_headline": "Leadership and improvement, learned from each other",
        "welcome_text": "Warwick Business School's health and care alumni and students swapping "
        "time: coaching, QI methods, data and leadership.",
    },
}
STAFF_EMAIL = "staff@hexitime.example"


def demo_load(*, members_per_network: int = 36) -> list[Network]:
    """Create the demonstration networks that do not exist yet (idempotent)."""
    platform_bootstrap()
    if not Member.objects.filter(email=STAFF_EMAIL).exists():
        Member.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD, full_name="Platform Staff")
    created = []
    for index, (slug, name, email_domain) in enumerate(DEMO_NETWORKS):
        if Network.objects.filter(slug=slug).exists():
            continue
        network = network_create(slug=slug, name=name)
        with tenant_context(network):
            members = demo_network_seed(
                seed=index,
                members=members_per_network,
                email_domain=email_domain,
                organiser_email=f"organiser@{slug}.example",
            )
        theme_update(network=network, actor=members[0], **DEMO_THEMES[slug])
        created.append(network)
    return created


def demo_network_seed(
    *, seed: int, members: int, email_domain: str, organiser_email: str
) -> list[Member]:
    """Fill the current network as a demonstration one: an organiser and `members` members
    with their welcome gift, listings, exchanges at every stage, projects, group sessions, a
    running campaign, gifts and grants from the community pot, equality answers, CPD records
    with reflections, stories (some picked), reports, a block, the safeguarding contact, an
    announcement and notifications. The tests that walk the whole API use it for realistic
    networks."""
    people = members_seed(
        rng=random.Random(seed),  # noqa: S311 - demo data, not security
        count=members,
        email_domain=email_domain,
        organiser_email=organiser_email,
        password=DEMO_PASSWORD,
    )
    gifts_grant(members=people)  # one ledger call for all the welcome gifts
    listings = listings_seed(rng=random.Random(seed), members=people)  # noqa: S311
    matches_seed(rng=random.Random(seed), members=people, listings=listings)  # noqa: S311
    exchanges_seed(rng=random.Random(seed), members=people, listings=listings)  # noqa: S311
    projects = projects_seed(rng=random.Random(seed), members=people)  # noqa: S311 - demo data
    sessions_seed(rng=random.Random(seed), members=people)  # noqa: S311 - demo data
    campaign_seed(
        rng=random.Random(seed),  # noqa: S311 - demo data
        index=seed,
        members=people,
        listings=listings,
        projects=projects,
    )
    giving_seed(rng=random.Random(seed), members=people, projects=projects)  # noqa: S311
    equality_seed(rng=random.Random(seed), members=people)  # noqa: S311 - demo data
    cpd_seed(rng=random.Random(seed), members=people)  # noqa: S311 - demo data
    stories_seed(rng=random.Random(seed), members=people)  # noqa: S311 - demo data
    safety_seed(
        rng=random.Random(seed),  # noqa: S311 - demo data
        members=people,
        listings=listings,
        email_domain=email_domain,
    )
    announcements_seed(members=people)
    # The demo's people are fictional: their notifications stay in the app. Marked
    # as sent, the emails queued for them are skipped (notification_email) and left
    # by the sweep, instead of printing some 150 messages over `hexitime up`'s banner.
    Notification.objects.filter(emailed_at__isnull=True).update(
        emailed_at=timezone.now(), email_pending=False
    )
    return people


def demo_logins() -> list[tuple[str, str]]:
    """(where, email) for each demo sign-in that exists."""
    logins = []
    if Member.objects.filter(email=STAFF_EMAIL).exists():
        logins.append(("staff", STAFF_EMAIL))
    for slug, _name, _domain in DEMO_NETWORKS:
        if Network.objects.filter(slug=slug).exists():
            logins.append((slug, f"organiser@{slug}.example"))
    return logins

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone
from django_tenants.utils import tenant_context

from core.listings.services import listing_create, listings_weekly_digest
from core.notifications.models import Kind, Notification

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network


def test_the_weekly_digest_tells_members_of_new_listings_matching_their_skills(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    nurse = make_member(network_a, skills=["sepsis"])
    make_member(network_a, skills=["knitting"])
    teacher = make_member(network_a)
    elsewhere = make_member(network_b, skills=["sepsis"])
    with tenant_context(network_a):
        listing_create(
            actor=teacher,
            kind="offer",
            title="Sepsis teaching",
            category="teaching",
            description="NEWS2 and the Sepsis Six",
        )
        listing_create(
            actor=nurse,
            kind="offer",
            title="My own sepsis session",
            category="teaching",
            description="Not for me to be told about",
        )
        assert listings_weekly_digest() == 1
        assert listings_weekly_digest() == 1  # same week: the same notification, not another
        digest = Notification.objects.get(kind=Kind.WEEKLY_DIGEST)
        assert digest.recipient == nurse
        assert "Sepsis teaching" in digest.body and "My own" not in digest.body
        next_month = timezone.now() + datetime.timedelta(days=30)
        assert listings_weekly_digest(now=next_month) == 0  # nothing new since
    with tenant_context(network_b):
        assert listings_weekly_digest() == 0
        assert not Notification.objects.filter(recipient=elsewhere).exists()

"""What each plan allows, and the checks that hold networks to it.

The free community plan has room for HEXITIME_COMMUNITY_MEMBER_LIMIT members; the paid
organisation plan has no member cap and adds federation and custom domains. A refusal is
a `PlanLimitReached` that names the plan and what to do, never a silent failure.

Counting the members who hold a place, and taking one as a member joins, is the members
layer's (core.members.places), which knows who counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.conf import settings

from kernel.errors import ApplicationError

from .models import Network, Plan


class PlanLimitReached(ApplicationError):
    """What the network's plan does not allow. 403: asking again will not help, upgrading
    will."""

    status_code = 403


def plan_member_limit(plan: str) -> int | None:
    """How many members a network on `plan` may have (None: no limit)."""
    return settings.HEXITIME_COMMUNITY_MEMBER_LIMIT if plan == Plan.COMMUNITY else None


@dataclass(frozen=True)
class PlanUsage:
    """A network's plan and how much of it is used, for the organiser's pages and API."""

    plan: str
    plan_label: str
    members: int
    member_limit: int | None

    @property
    def places_left(self) -> int | None:
        return None if self.member_limit is None else max(self.member_limit - self.members, 0)

    @property
    def full(self) -> bool:
        return self.places_left == 0

    @property
    def near_limit(self) -> bool:
        """A tenth of the places (at least one) or fewer are left."""
        left = self.places_left
        return left is not None and left <= max(1, int(self.member_limit or 0) // 10)

    @property
    def federation(self) -> bool:
        return self.plan == Plan.ORGANISATION

    @property
    def custom_domains(self) -> bool:
        return self.plan == Plan.ORGANISATION


@dataclass(frozen=True)
class PlanOffer:
    """One plan as the billing page describes it: its price and what it includes."""

    plan: str
    label: str
    price: str
    member_limit: int | None
    federation: bool
    custom_domains: bool


def plan_offers() -> list[PlanOffer]:
    """Every plan, cheapest first, with its price and what it includes."""
    return [
        PlanOffer(
            plan=plan,
            label=str(plan.label),
            price="Free" if plan == Plan.COMMUNITY else settings.HEXITIME_ORGANISATION_PRICE,
            member_limit=plan_member_limit(plan),
            federation=plan == Plan.ORGANISATION,
            custom_domains=plan == Plan.ORGANISATION,
        )
        for plan in (Plan.COMMUNITY, Plan.ORGANISATION)
    ]


def network_full_message(network: Network, limit: int) -> str:
    return (
        f"{network.name} is full: the free community plan has room for {limit} members. "
        "Please ask one of its organisers to upgrade to the organisation plan."
    )


_PAID_FEATURES = {
    "federation": "Federation with other networks comes",
    "custom_domains": "Custom domains come",
}


def plan_feature_require(
    *, network: Network, feature: Literal["federation", "custom_domains"]
) -> None:
    """Refuse (`PlanLimitReached`, code `plan_required`) a feature of the organisation plan
    for a network on another plan, naming both plans. Reads the plan from the database,
    not from `network`, which may be older than the last billing webhook."""
    plan = Network.objects.filter(pk=network.pk).values_list("plan", flat=True).first()
    if plan != Plan.ORGANISATION:
        current = Plan(plan or Plan.COMMUNITY).label
        raise PlanLimitReached(
            f"{_PAID_FEATURES[feature]} with the organisation plan; {network.name} is on the "
            f"{current} plan. An organiser can upgrade under Plan and billing.",
            code="plan_required",
        )

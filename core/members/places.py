"""The places a network's plan gives its members: who holds one, how many are used, and
taking one as a member joins (what each plan allows is tenants.plans).

A member counts from the moment they verify their address (approved or not) until an
organiser declines them. An unverified join takes no place: anyone can ask to join, so
unverified requests must not fill a network (they expire after the link's seven days).
"""

from __future__ import annotations

from kernel.db import connection
from tenants.models import Network, Plan
from tenants.plans import PlanLimitReached, PlanUsage, network_full_message, plan_member_limit

from .models import NOT_MEMBERS, Member, MemberState


def counted_members() -> int:
    """Members of the current network's schema who take a place under the plan."""
    # Unverified sign-ups take no place: the place is taken on verifying.
    not_holding = [*NOT_MEMBERS, MemberState.UNVERIFIED]
    return Member.objects.filter(is_staff=False).exclude(state__in=not_holding).count()


def plan_usage(*, network: Network) -> PlanUsage:
    """`network`'s plan and member count. Call with `network` as the current tenant."""
    return PlanUsage(
        plan=network.plan,
        plan_label=str(Plan(network.plan).label),
        members=counted_members(),
        member_limit=plan_member_limit(network.plan),
    )


def plan_member_place_take() -> Network:
    """Refuse (`PlanLimitReached`, code `network_full`) a new member when the current
    network's plan has no place left; return the network.

    Call inside the transaction that creates the member, in the network's schema. The
    network's row is locked (FOR NO KEY UPDATE) until that transaction ends, so
    concurrent joins are counted one after another and a plan change waits for them.
    """
    network = Network.objects.select_for_update(no_key=True).get(schema_name=connection.schema_name)
    limit = plan_member_limit(network.plan)
    if limit is not None and counted_members() >= limit:
        raise PlanLimitReached(network_full_message(network, limit), code="network_full")
    return network

from __future__ import annotations

from django.db.models import Sum

from .models import FederationTransfer, Membership


def federation_positions() -> dict[int, int]:
    """Network id -> federation position in minutes."""
    return dict(Membership.objects.values_list("network_id", "position"))


def federation_audit() -> list[str]:
    """Problems in the federation ledger itself (empty when clean)."""
    problems = []
    total = Membership.objects.aggregate(total=Sum("position", default=0))["total"]
    if total != 0:
        problems.append(f"federation positions sum to {total}, not 0")
    paid = dict(
        FederationTransfer.objects.values("payer")
        .annotate(m=Sum("amount"))
        .values_list("payer", "m")
    )
    received = dict(
        FederationTransfer.objects.values("payee")
        .annotate(m=Sum("amount"))
        .values_list("payee", "m")
    )
    for membership in Membership.objects.select_related("network"):
        expected = paid.get(membership.pk, 0) - received.get(membership.pk, 0)
        if membership.position != expected:
            problems.append(
                f"{membership.network.slug}: position {membership.position} but its transfers "
                f"add up to {expected}"
            )
    return problems

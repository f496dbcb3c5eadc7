"""Hand-over: the single-use, short-lived link that signs a new network's organiser in
once provisioning is done (from the public site's progress page into the network)."""

from __future__ import annotations

from typing import Any

from django.core import signing
from django.db import transaction
from django.utils import timezone

from core.members.models import Member
from kernel.errors import ApplicationError, PermissionDenied
from tenants.models import Network, ProvisioningJob

HANDOVER_SALT = "tenants.handover"
HANDOVER_MAX_AGE = 15 * 60  # seconds the progress page's sign-in link stays valid


def handover_token(job: ProvisioningJob) -> str:
    """A signed, short-lived token that signs the organiser into their new network once."""
    if job.status != ProvisioningJob.Status.DONE or job.network is None:
        raise ApplicationError("The network is not ready yet.")
    return signing.dumps(
        {"job": str(job.pk), "schema": job.network.schema_name, "member": job.organiser_id},
        salt=HANDOVER_SALT,
    )


def _handover_claim(token: str, network: Network) -> dict[str, Any]:
    """What a genuine, fresh hand-over token for `network` says; PermissionDenied otherwise."""
    try:
        claim = signing.loads(token, salt=HANDOVER_SALT, max_age=HANDOVER_MAX_AGE)
    except signing.SignatureExpired:
        raise PermissionDenied("This sign-in link has expired. Please sign in.") from None
    except signing.BadSignature:
        raise PermissionDenied("This sign-in link is not valid.") from None
    if claim.get("schema") != network.schema_name:
        raise PermissionDenied("This sign-in link is for another network.")
    return claim


def _handover_organiser(claim: dict[str, Any]) -> Member:
    organiser = Member.objects.filter(pk=claim["member"], is_active=True).first()
    if organiser is None:
        raise PermissionDenied("This sign-in link is not valid.")
    return organiser


def handover_check(*, token: str, network: Network) -> Member:
    """The organiser a hand-over token would sign in, refusing (PermissionDenied) exactly
    what `handover_consume` refuses, but using nothing up: what a GET of the link (or a
    link-preview bot fetching it) may do. Call it with `network` as the current tenant."""
    claim = _handover_claim(token, network)
    unused = ProvisioningJob.objects.filter(
        pk=claim["job"], network=network, handed_over_at__isnull=True
    ).exists()
    if not unused:
        raise PermissionDenied("This sign-in link has already been used. Please sign in.")
    return _handover_organiser(claim)


def handover_consume(*, token: str, network: Network) -> Member:
    """The organiser a hand-over token names, if it is genuine, fresh, unused and for
    `network`; marks it used. Refuses (PermissionDenied) anything else, using nothing up.
    Call it with `network` as the current tenant."""
    claim = _handover_claim(token, network)
    with transaction.atomic(durable=True):
        used = ProvisioningJob.objects.filter(
            pk=claim["job"], network=network, handed_over_at__isnull=True
        ).update(handed_over_at=timezone.now())
        if not used:
            raise PermissionDenied("This sign-in link has already been used. Please sign in.")
        organiser = _handover_organiser(claim)
    return organiser

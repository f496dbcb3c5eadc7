"""A network's life: created (its row, domain and schema in one transaction), suspended,
resumed. The public site's own row is made by `platform_bootstrap`.

The schema itself comes from tenants.services.schemas (a spare, or the template replayed);
refilling the spares is queued by task name after the commit, so this module never imports
tenants.tasks (the tasks import the services, never the other way round)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django_tenants.utils import get_public_schema_name, schema_context

from core.audit.services import audit_record
from core.members.models import Member
from kernel.errors import ApplicationError, PermissionDenied
from tenants.models import Domain, Network, schema_name_for

from .schemas import schema_build, schema_spare_claim, schema_template_current
from .slugs import NetworkNameRefused, network_domain, slug_suggest, slug_validate


@dataclass(frozen=True)
class ProvisionStep:
    """Progress reported to a caller (the provisioning task shows these to the organiser)."""

    name: str
    done: int
    total: int


ProgressCallback = Callable[[ProvisionStep], None]


def platform_bootstrap() -> Network:
    """Ensure the public network row and the base-domain route exist (idempotent)."""
    public, _ = Network.objects.get_or_create(
        schema_name=get_public_schema_name(),
        defaults={"slug": "public", "name": "Hexitime"},
    )
    Domain.objects.get_or_create(
        domain=settings.HEXITIME_BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )
    return public


def network_create(
    *,
    slug: str,
    name: str,
    organisation_type: str = Network.OrganisationType.OTHER,
    on_progress: ProgressCallback | None = None,
    on_created: Callable[[Network], None] | None = None,
) -> Network:
    """Create a network, its schema and its domain `<slug>.<base domain>`.

    The network row, domain and schema are created in one transaction: a failure leaves
    none of them behind. `on_created` runs inside that transaction, so what it records
    about the new network commits with it or not at all. Organiser accounts, ledger
    accounts and theming are added by their own services once the schema exists.
    """
    report = on_progress or (lambda step: None)
    slug_validate(slug)
    report(ProvisionStep("Preparing the network template", 1, 3))
    template = schema_template_current()
    report(ProvisionStep("Building the network's database", 2, 3))
    try:
        with transaction.atomic(durable=True):
            network = Network.objects.create(
                slug=slug,
                name=name,
                organisation_type=organisation_type,
                schema_name=schema_name_for(slug),
                # A spare and a replay are both built from this template.
                migration_state=template.state,
            )
            Domain.objects.create(domain=network_domain(slug), tenant=network, is_primary=True)
            if not schema_spare_claim(network.schema_name, template.state):
                schema_build(network.schema_name, template)
            if settings.HEXITIME_SPARE_SCHEMAS:
                transaction.on_commit(_schema_spares_refill, robust=True)
            if on_created is not None:
                on_created(network)
    except IntegrityError:
        raise NetworkNameRefused(
            f"“{slug}” was taken a moment ago. How about “{slug_suggest(slug)}”?", field="slug"
        ) from None
    report(ProvisionStep("Ready", 3, 3))
    return network


def network_suspend(*, network: Network, actor: Member | None, reason: str) -> Network:
    """Suspend a network: its pages answer with a "suspended" page and its API refuses,
    while every row of its data stays as it is. Platform staff only (or an operator's
    command, `actor` None). Recorded in the public schema's audit log."""
    return _network_status_set(network, Network.Status.SUSPENDED, actor=actor, reason=reason)


def network_resume(*, network: Network, actor: Member | None, reason: str = "") -> Network:
    """Lift a suspension: the network serves pages and API again, exactly as before."""
    return _network_status_set(network, Network.Status.ACTIVE, actor=actor, reason=reason)


def _network_status_set(
    network: Network, status: str, *, actor: Member | None, reason: str
) -> Network:
    if network.schema_name == get_public_schema_name():
        raise ApplicationError("The public site cannot be suspended.")
    if actor is not None and not actor.is_staff:
        raise PermissionDenied("Only platform staff can suspend or resume a network.")
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        locked = Network.objects.select_for_update().get(pk=network.pk)
        if locked.status == status:
            return locked
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            verb="network.suspend" if status == Network.Status.SUSPENDED else "network.resume",
            target=locked,
            before={"status": before},
            after={"status": status},
            reason=reason,
        )
    return locked


def _schema_spares_refill() -> None:
    current_app.send_task("tenants.tasks.schema_spares_fill_task")

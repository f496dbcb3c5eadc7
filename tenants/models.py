"""Networks (tenants) and their domains. These live in the public schema."""

from __future__ import annotations

import uuid

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

from kernel.silo import public_model

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    "Use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


def schema_name_for(slug: str) -> str:
    """`oxford-ics` -> `net_oxford_ics`: the prefix keeps network schemas apart from
    `public`, `pg_*` and our provisioning templates whatever slug an organiser picks."""
    return "net_" + slug.replace("-", "_")


class Plan(models.TextChoices):
    COMMUNITY = "community", _("Community (free)")
    ORGANISATION = "organisation", _("Organisation")


class BillingStatus(models.TextChoices):
    NONE = "none", _("No subscription")
    ACTIVE = "active", _("Paid up")
    PAST_DUE = "past_due", _("Payment failed")
    CANCELED = "canceled", _("Cancelled")


@public_model
class Network(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")

    class OrganisationType(models.TextChoices):
        ICS = "ics", _("Integrated care system")
        TRUST = "trust", _("NHS trust")
        UNIVERSITY = "university", _("University")
        OTHER = "other", _("Other")

    slug = models.CharField(max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=120)
    organisation_type = models.CharField(
        max_length=16, choices=OrganisationType.choices, default=OrganisationType.OTHER
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    # Billing (tenants.services.billing): changed only by processing Stripe webhooks.
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.COMMUNITY)
    billing_status = models.CharField(
        max_length=16, choices=BillingStatus.choices, default=BillingStatus.NONE
    )
    stripe_customer_id = models.CharField(max_length=64, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=64, blank=True, db_index=True)
    # tenants.services.schemas.tenant_migration_state() of the code that last built or migrated
    # this network's schema, written in the same transaction; "" = not known. `hexitime
    # tenants migrate` migrates only the networks whose state differs (tenants.services.fleet).
    migration_state = models.CharField(max_length=64, blank=True, default="")

    # Schemas are built by tenants.services.networks.network_create from a captured template,
    # never by TenantMixin.save() replaying migrations.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended"]), name="network_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(organisation_type__in=["ics", "trust", "university", "other"]),
                name="network_organisation_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@public_model
class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain


@public_model
class SchemaTemplate(models.Model):
    """The SQL that builds a network schema at one migration state.

    Captured once per state by migrating a scratch schema and recording every statement
    it ran, kept one statement per element (Citus refuses a string of several); replayed
    statement by statement in one pipelined transaction to provision a network (see
    services.py).
    """

    state = models.CharField(max_length=64, unique=True)
    statements = models.JSONField(default=list, help_text="One SQL statement per element.")
    statement_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"schema template {self.state[:12]}"


@public_model
class ProvisioningJob(models.Model):
    """One organiser's request to start a network, and how far provisioning has got.

    Lives in the public schema. The organiser's password is kept only as a hash, until
    the organiser account exists in the new network's schema; then it is cleared.
    `handed_over_at` records the single use of the sign-in token that takes the organiser
    from the progress page into their network.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.CharField(max_length=40, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=120)
    organisation_type = models.CharField(max_length=16, choices=Network.OrganisationType.choices)
    organiser_name = models.CharField(max_length=150)
    organiser_email = models.EmailField(max_length=254)
    organiser_password = models.CharField(max_length=128, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    step = models.CharField(max_length=120, default="Waiting for a worker")
    steps_done = models.PositiveSmallIntegerField(default=0)
    steps_total = models.PositiveSmallIntegerField(default=4)
    # Runs started: a job whose worker keeps dying is failed after a few (services).
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    network = models.OneToOneField(
        Network, null=True, blank=True, on_delete=models.SET_NULL, related_name="provisioning"
    )
    organiser_id = models.BigIntegerField(null=True, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # Two organisers racing for one subdomain: only one job may be under way.
            models.UniqueConstraint(
                fields=["slug"],
                condition=models.Q(status__in=["queued", "running"]),
                name="provisioning_one_active_job_per_slug",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["queued", "running", "done", "failed"]),
                name="provisioning_status_valid",
            ),
            # `network` may be emptied later, when staff delete the network.
            models.CheckConstraint(
                condition=~models.Q(status="done") | models.Q(organiser_id__isnull=False),
                name="provisioning_done_has_organiser",
            ),
        ]

    def __str__(self) -> str:
        return f"provisioning {self.slug} ({self.status})"


@public_model
class SpareSchema(models.Model):
    """A network schema built ahead of time from the template for `state`, waiting to be
    renamed into a new network (see services.schema_spares_fill)."""

    name = models.CharField(max_length=63, unique=True)
    state = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


@public_model
class NetworkExport(models.Model):
    """A record that staff exported a network's data (the zip itself is downloaded, not
    kept). Deleting a network requires a recent one."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="exports")
    actor_id = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"export of {self.network_id} at {self.created_at:%Y-%m-%d %H:%M}"


@public_model
class StripeEvent(models.Model):
    """A Stripe webhook event, stored once by its id: a replay finds the row and changes
    nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    payload = models.JSONField()
    network = models.ForeignKey(Network, null=True, blank=True, on_delete=models.SET_NULL)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


@public_model
class DomainClaim(models.Model):
    """An organiser's own domain for their network. It routes (becomes a Domain) only once
    a DNS TXT record proves they control it (see tenants.services.domains)."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="domain_claims")
    domain = models.CharField(max_length=253, unique=True)
    token = models.CharField(max_length=64)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

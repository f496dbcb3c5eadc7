"""Networks (tenants) and their domains. These live in the public schema."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django_tenants.models import DomainMixin, TenantMixin

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$",
    "Use 1-40 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


def schema_name_for(slug: str) -> str:
    """`oxford-ics` -> `net_oxford_ics`: the prefix keeps network schemas apart from
    `public`, `pg_*` and our provisioning templates whatever slug an organiser picks."""
    return "net_" + slug.replace("-", "_")


class Network(TenantMixin):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"

    slug = models.CharField(max_length=40, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=120)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are built by tenants.services.network_create from a captured template,
    # never by TenantMixin.save() replaying migrations.
    auto_create_schema = False
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended"]), name="network_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Domain(DomainMixin):
    def __str__(self) -> str:
        return self.domain


class SchemaTemplate(models.Model):
    """The SQL that builds a network schema at one migration state.

    Captured once per state by migrating a scratch schema and recording every statement
    it ran; replayed in one round trip to provision a network (see services.py).
    """

    state = models.CharField(max_length=64, unique=True)
    sql = models.TextField()
    statement_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"schema template {self.state[:12]}"

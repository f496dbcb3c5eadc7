"""A network's single sign-on: the OpenID Connect provider its organisers connected, and
the identities (issuer, subject) through which its members sign in. Both live in the
network's schema, so one network's provider never signs anyone into another."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.members.models import Member
from kernel.silo import network_model


class ProviderKind(models.TextChoices):
    ENTRA = "entra", _("Microsoft Entra ID")
    GOOGLE = "google", _("Google Workspace")
    OIDC = "oidc", _("Another OpenID Connect provider")


@network_model
class SsoSettings(models.Model):
    """One row per network schema (id is always 1). No row, or an empty issuer, means the
    network has no single sign-on. The client secret is stored encrypted (core.sso.secrets);
    `secret_hint` holds its last characters so an organiser can tell which one is set."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    kind = models.CharField(max_length=8, choices=ProviderKind.choices, default=ProviderKind.OIDC)
    # The name on the sign-in button: "Sign in with <name>".
    name = models.CharField(max_length=80)
    # The issuer; its discovery document is <issuer>/.well-known/openid-configuration.
    issuer = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    client_secret_encrypted = models.TextField()
    secret_hint = models.CharField(max_length=8)
    password_sign_in = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "single sign-on settings"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="sso_settings_single_row"),
            models.CheckConstraint(
                condition=models.Q(kind__in=ProviderKind.values), name="sso_settings_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


@network_model
class SsoIdentity(models.Model):
    """A member's account at the network's provider: the provider's `sub` is stable, the
    email address may change, so sign-in matches on (issuer, subject)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=500)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"

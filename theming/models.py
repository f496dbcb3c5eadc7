"""Each network's branding. Stored in the public schema, one row per network."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import public_model

DEFAULT_PRIMARY = "#005eb8"  # NHS blue
DEFAULT_ACCENT = "#007f3b"  # NHS green


@public_model
class Theme(models.Model):
    network = models.OneToOneField(
        "tenants.Network", on_delete=models.CASCADE, related_name="theme"
    )
    primary_colour = models.CharField(max_length=7, default=DEFAULT_PRIMARY)
    accent_colour = models.CharField(max_length=7, default=DEFAULT_ACCENT)
    welcome_headline = models.CharField(max_length=120, blank=True)
    welcome_text = models.TextField(max_length=2000, blank=True)
    # [{"label": "Privacy", "url": "https://..."}], at most five.
    footer_links = models.JSONField(default=list, blank=True)
    logo = models.FileField(upload_to="theme/", blank=True)
    favicon = models.FileField(upload_to="theme/", blank=True)
    # Bumped on every change: the stylesheet URL carries it, so browsers cache each
    # version for a year and fetch the new one as soon as pages name it.
    version = models.PositiveIntegerField(default=1)
    # What a visitor who has not chosen a language sees (the organiser picks it): one of
    # settings.LANGUAGES, checked by theme_update.
    default_language = models.CharField(max_length=8, default="en-gb")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(primary_colour__regex=r"^#[0-9a-fA-F]{6}$")
                & models.Q(accent_colour__regex=r"^#[0-9a-fA-F]{6}$"),
                name="theme_colours_are_hex",
            )
        ]

    def __str__(self) -> str:
        return f"theme of network {self.network_id} v{self.version}"


class Compliance(models.TextChoices):
    FULL = "full", _("fully compliant")
    PARTIAL = "partial", _("partially compliant")
    NONE = "none", _("not compliant")


class Enforcer(models.TextChoices):
    EHRC = "ehrc", _("England, Scotland or Wales (EHRC)")
    ECNI = "ecni", _("Northern Ireland (ECNI)")


@public_model
class AccessibilityStatement(models.Model):
    """What a network's organisers say in its accessibility statement (Public Sector Bodies
    Accessibility Regulations 2018, regulation 7). Public schema, one row per network, like
    its theme; the known failures come from the automated tests' report, not from here."""

    network = models.OneToOneField(
        "tenants.Network", on_delete=models.CASCADE, related_name="accessibility_statement"
    )
    organisation = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    response_days = models.PositiveSmallIntegerField(default=5)
    compliance = models.CharField(
        max_length=10, choices=Compliance.choices, default=Compliance.PARTIAL
    )
    enforcer = models.CharField(max_length=4, choices=Enforcer.choices, default=Enforcer.EHRC)
    known_issues = models.TextField(max_length=4000, blank=True)
    tested_by = models.TextField(max_length=2000, blank=True)
    reviewed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(response_days__gte=1, response_days__lte=60),
                name="accessibility_response_days_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"accessibility statement of network {self.network_id}"

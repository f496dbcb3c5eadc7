"""Each network's branding. Stored in the public schema, one row per network."""

from __future__ import annotations

from django.db import models

DEFAULT_PRIMARY = "#005eb8"  # NHS blue
DEFAULT_ACCENT = "#007f3b"  # NHS green


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

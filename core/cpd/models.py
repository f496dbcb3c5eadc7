"""What the member writes about their learning, and the records they have issued.

The facts of an entry (its date, minutes and role) are never stored here: they come from
the ledger-backed sources (`sources.py`) every time, so they cannot be edited to inflate
hours. What is stored is keyed by (source, source id): the member's reflection and their
corrections of what a source can only guess (the format, the topic, whether it was
participatory). An issued record (`Record`) is a snapshot of the rows as downloaded,
signed, so an appraiser can check a PDF against it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

REFLECTION_LIMIT = 5000
TOPIC_LIMIT = 200


class Scheme(models.TextChoices):
    NMC = "nmc", _("NMC revalidation (nurses, midwives, nursing associates)")
    GMC = "gmc", _("GMC appraisal and revalidation (doctors)")
    HCPC = "hcpc", _("HCPC CPD audit (allied health professionals and others)")
    NONE = "none", _("No scheme")


class Format(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    VIRTUAL = "virtual", _("Virtual")


@network_model
class CpdSettings(models.Model):
    """The scheme a member keeps their record for (no row: none chosen yet)."""

    member = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="cpd_settings",
    )
    scheme = models.CharField(max_length=4, choices=Scheme.choices, default=Scheme.NONE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scheme__in=Scheme.values), name="cpd_settings_scheme_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.scheme}"


@network_model
class EntryNote(models.Model):
    """A member's reflection on one entry of their record and their corrections of it.
    Private to the member: never in a download, a verification page or anyone else's view."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="cpd_notes",
        db_index=False,  # cpd_note_once_per_entry leads with it
    )
    source = models.CharField(max_length=20)
    source_id = models.BigIntegerField()
    reflection = models.TextField(max_length=REFLECTION_LIMIT, blank=True)
    # None: as the source says.
    participatory = models.BooleanField(null=True, blank=True)
    topic = models.CharField(max_length=TOPIC_LIMIT, blank=True)
    format = models.CharField(max_length=10, choices=Format.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["source", "source_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "source", "source_id"], name="cpd_note_once_per_entry"
            ),
            models.CheckConstraint(
                condition=models.Q(format__in=["", *Format.values]), name="cpd_note_format_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.source} {self.source_id}"


@network_model
class Record(models.Model):
    """An issued record: the rows of a download as they were (date, minutes, format, role,
    topic, participatory; never reflections), under a code printed on the PDF, with an
    HMAC-SHA256 digest of all of it (`signing.py`). The verification page recomputes the
    digest: a row changed in the database afterwards no longer matches."""

    code = models.CharField(max_length=14, unique=True)
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="cpd_records",
    )
    member_name = models.CharField(max_length=260)
    scheme = models.CharField(max_length=4, choices=Scheme.choices)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    rows = models.JSONField()
    issued_at = models.DateTimeField()
    digest = models.CharField(max_length=64)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.code

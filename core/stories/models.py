from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

TEXT_LIMIT = 2000


@network_model
class Story(models.Model):
    """What changed for a member's patients or team after one exchange (or session), in
    their words. Published (on the impact page, the public home) only while the author
    consents, has not withdrawn it, and an organiser has picked it; by name only if the
    author chose so."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stories",
        db_index=False,  # story_once_per_author_subject leads with it
    )
    # What the story is about, as `sources.SOURCES` names it: ("exchange", <id>).
    source = models.CharField(max_length=20)
    source_id = models.BigIntegerField()
    subject = models.CharField(max_length=200)  # the exchange's title as it was
    text = models.TextField(max_length=TEXT_LIMIT)
    consent = models.BooleanField(
        default=False, help_text=_("The author agrees to its publication.")
    )
    show_name = models.BooleanField(default=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    on_impact = models.BooleanField(default=False)
    on_home = models.BooleanField(default=False)
    picked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("pick_story", "Can pick stories for the impact page and home")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "source", "source_id"], name="story_once_per_author_subject"
            ),
            # Only a consented story that stands may be picked.
            models.CheckConstraint(
                condition=models.Q(on_impact=False, on_home=False)
                | models.Q(consent=True, withdrawn_at__isnull=True),
                name="story_picked_only_with_consent",
            ),
        ]
        indexes = [models.Index(fields=["on_home", "-picked_at"], name="story_home_idx")]

    def __str__(self) -> str:
        return self.subject

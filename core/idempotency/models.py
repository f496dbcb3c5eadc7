"""Responses kept for API requests that carried an `Idempotency-Key` header.

In each network's schema: a key belongs to one member of one network, so nobody can
replay (or even detect) another member's request.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kernel.silo import network_model


@network_model
class IdempotentResponse(models.Model):
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # idempotency_one_per_key leads with it
    )
    key = models.CharField(max_length=255)
    # sha256 of the method, path, query string and body: a repeat must be the same request.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=120)
    body = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "key"], name="idempotency_one_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"

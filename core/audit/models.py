"""Audit events: who did what to what, with the state before and after.

The app is installed in every schema: network actions are recorded in the network's
schema, platform-staff actions in the public schema. Events are append-only; the database
refuses updates and deletes (see migration 0002), except a closed account's name leaving
`actor_label`, that column alone, under a transaction-local flag (migration 0003).
"""

from __future__ import annotations

from django.db import models

from kernel.silo import public_and_network_model


@public_and_network_model
class AuditEvent(models.Model):
    # The actor is kept by id and label, not by foreign key: staff accounts live in the
    # public schema and must not be referenced from a network's schema, and the record
    # must outlive the account.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=254)
    verb = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.verb} {self.target_type}:{self.target_id}"

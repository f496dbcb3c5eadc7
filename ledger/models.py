"""Accounts, transfers and entries of one network's ledger (see the package docstring)."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from kernel.silo import network_model

MINUTES_PER_CREDIT = 60
GIFT_MINUTES = 2 * MINUTES_PER_CREDIT


@network_model
class Account(models.Model):
    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        ISSUANCE = "issuance", _("Issuance")
        PROJECT = "project", _("Project")
        CLEARING = "clearing", _("Federation clearing")
        # Credit members give to the network for organisers to grant on (core.giving).
        POT = "pot", _("Community pot")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The member's or project's id; none for the network's issuance and clearing accounts.
    owner_id = models.BigIntegerField(null=True, blank=True)
    balance = models.BigIntegerField(default=0, help_text="Minutes; changed only by ledger_post().")
    floor = models.BigIntegerField(
        null=True, blank=True, default=0, help_text="Lowest allowed balance; none = no limit."
    )
    # The sequence number of the account's latest entry; changed only by ledger_post().
    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        permissions = [("view_network_totals", "Can see the network's ledger totals")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["member", "issuance", "project", "clearing", "pot"]),
                name="ledger_account_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(floor__isnull=True) | models.Q(balance__gte=models.F("floor")),
                name="ledger_account_balance_above_floor",
            ),
            models.UniqueConstraint(
                fields=["kind", "owner_id"],
                condition=models.Q(owner_id__isnull=False),
                name="ledger_account_one_per_owner",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind__in=["issuance", "clearing"]),
                name="ledger_account_one_issuance_and_clearing",
            ),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(kind="pot"), name="ledger_account_one_pot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} account {self.owner_id or ''}".strip()


@network_model
class Transfer(models.Model):
    class Kind(models.TextChoices):
        GIFT = "gift", _("Welcome gift")
        EXCHANGE = "exchange", _("Exchange")
        PROJECT_FUND = "project_fund", _("Project funding")
        PROJECT_CREDIT = "project_credit", _("Project volunteering")
        FEDERATION = "federation", _("Exchange with another network")
        REVERSAL = "reversal", _("Correction")
        CLOSURE = "closure", _("Account closed: credit returned to the network")
        # Gifts (core.giving): never help given, so no report counts them as such.
        GIFT_MEMBER = "gift_member", _("Gift")
        GIFT_PROJECT = "gift_project", _("Gift to a project")
        GIFT_POT = "gift_pot", _("Gift to the community pot")
        POT_GRANT = "pot_grant", _("Gift from the community pot")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Unique through Meta.constraints, not unique=True: that would add a second,
    # pattern-matching index which every posting pays for and no query uses.
    idempotency_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    memo = models.CharField(max_length=500, blank=True)
    # Kept by id and label: the actor may be platform staff (public schema) or the system.
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(db_default=models.functions.Now())
    # At most one reversal per transfer: a partial unique index (Meta), so the many
    # transfers that reverse nothing add nothing to it.
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        db_index=False,
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [("correct_transfer", "Can correct a transfer by reversing it")]
        constraints = [
            models.UniqueConstraint(fields=["idempotency_key"], name="ledger_transfer_one_per_key"),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=models.Q(reverses__isnull=False),
                name="ledger_transfer_reversed_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.idempotency_key}"


@network_model
class Entry(models.Model):
    """One leg of a transfer on one account.

    `sequence` numbers the account's entries 1, 2, 3... in posting order (ledger_post()
    takes it from the locked account row). Ids say nothing about order: on Citus each node
    hands out its own identity range, and a schema moved to another node gets smaller ids.
    """

    # No single-column indexes: (transfer, account) and (account, sequence) below cover both
    # keys, and every index costs each posting. No foreign-key constraints either: entries
    # are written only by ledger_post() and ledger_post_batch(), which insert the transfer
    # and hold the accounts locked in the same call; transfers cannot be deleted, nor
    # accounts with entries (migration 0009), and the audit re-checks both links.
    transfer = models.ForeignKey(
        Transfer,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        db_constraint=False,
    )
    amount = models.BigIntegerField(help_text="Minutes; positive credits the account.")
    balance_after = models.BigIntegerField()
    sequence = models.BigIntegerField(help_text="Posting order within the account, from 1.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(amount=0), name="ledger_entry_amount_nonzero"
            ),
            models.UniqueConstraint(
                fields=["transfer", "account"], name="ledger_entry_one_leg_per_account"
            ),
            # Also the statement's index, read backwards for newest first.
            models.UniqueConstraint(
                fields=["account", "sequence"], name="ledger_entry_one_per_sequence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} min on {self.account_id}"


# Credit given freely between members, projects and the community pot (core.giving).
GIFT_KINDS = frozenset(
    {
        Transfer.Kind.GIFT_MEMBER,
        Transfer.Kind.GIFT_PROJECT,
        Transfer.Kind.GIFT_POT,
        Transfer.Kind.POT_GRANT,
    }
)

from __future__ import annotations

import uuid

from django.db import models

from kernel.silo import public_model


@public_model
class Membership(models.Model):
    """A network's place in the federation.

    `position` is the minutes this network's members have received from other networks
    less what they have given: positive means the network owes the federation. It equals
    the network's clearing-account balance, positions sum to zero across the federation,
    and a transfer that would take a position above `debit_limit` is refused.
    """

    network = models.OneToOneField(
        "tenants.Network", on_delete=models.CASCADE, related_name="federation"
    )
    opted_in = models.BooleanField(default=False)
    # Accept exchanges from any opted-in network, not only named partners.
    open_to_all = models.BooleanField(default=False)
    partners = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="+")
    debit_limit = models.BigIntegerField(default=60 * 60, help_text="Minutes.")
    position = models.BigIntegerField(default=0, help_text="Minutes; see the class docstring.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(position__lte=models.F("debit_limit")),
                name="federation_position_within_debit_limit",
            ),
            models.CheckConstraint(
                condition=models.Q(debit_limit__gte=0), name="federation_debit_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"federation membership of network {self.network_id}"


@public_model
class FederationTransfer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    idempotency_key = models.CharField(max_length=200, unique=True)
    # The network whose member received help (it pays) and the one whose member gave it.
    payer = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    payee = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    payer_member_id = models.BigIntegerField()
    payee_member_id = models.BigIntegerField()
    memo = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_default=models.functions.Now())

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="federation_amount_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(payer=models.F("payee")), name="federation_between_networks"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} min {self.payer_id} -> {self.payee_id}"


@public_model
class RemoteExchange(models.Model):
    """Where a member's exchange with another network lives.

    An exchange is stored in the schema of the network whose listing it answers; this
    public row lets the guest member's own network list it. It holds ids only.
    """

    host_network = models.ForeignKey("tenants.Network", on_delete=models.CASCADE, related_name="+")
    exchange_id = models.BigIntegerField()
    guest_network = models.ForeignKey("tenants.Network", on_delete=models.CASCADE, related_name="+")
    guest_member_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["host_network", "exchange_id"], name="remote_exchange_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["guest_network", "guest_member_id"], name="remote_exchange_guest_idx"
            )
        ]

    def __str__(self) -> str:
        return f"exchange {self.exchange_id} in network {self.host_network_id}"

"""Billing for hosting organisations: Stripe webhooks set a network's plan.

Members never pay. A network is on the free community plan until Stripe reports a paid
organisation subscription. Webhooks are verified with the endpoint's signing secret and
refused when older than Stripe's 300-second tolerance; each event is stored once by its id
in the transaction that applies it, so a replayed or duplicated delivery changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from core.audit.services import audit_record
from hexitime.errors import ApplicationError

from .models import BillingStatus, Network, Plan, StripeEvent

WEBHOOK_TOLERANCE_SECONDS = 300


class WebhookRefused(ApplicationError):
    pass


def stripe_webhook_receive(*, payload: bytes, signature: str) -> StripeEvent:
    """Verify, store and apply one webhook delivery; idempotent by Stripe event id.

    Raises WebhookRefused (nothing stored or changed) for a bad or stale signature or a
    payload that is not an event."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRefused("Stripe webhooks are not configured.")
    try:
        stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
        event_id, event_type, obj = event["id"], event["type"], event["data"]["object"]
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError):
        raise WebhookRefused("Invalid Stripe webhook.") from None
    existing = StripeEvent.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic(durable=True):
            stored = StripeEvent.objects.create(event_id=event_id, type=event_type, payload=event)
            network = _apply(event_type, obj)
            if network is not None:
                stored.network = network
                stored.save(update_fields=["network"])
    except IntegrityError:  # the same event delivered twice at once: the other one won
        return StripeEvent.objects.get(event_id=event_id)
    return stored


def _apply(event_type: str, obj: dict[str, Any]) -> Network | None:
    if event_type == "checkout.session.completed":
        network = _locked(pk=obj.get("client_reference_id"))
        return network and _change(
            network,
            event_type,
            plan=Plan.ORGANISATION,
            billing_status=BillingStatus.ACTIVE,
            stripe_customer_id=obj.get("customer") or "",
            stripe_subscription_id=obj.get("subscription") or "",
        )
    if event_type == "customer.subscription.updated":
        network = _locked(stripe_subscription_id=obj.get("id"))
        status = obj.get("status")
        if network is None:
            return None
        if status in {"active", "trialing"}:
            return _change(network, event_type, plan=Plan.ORGANISATION,
                           billing_status=BillingStatus.ACTIVE)  # fmt: skip
        if status in {"past_due", "unpaid", "incomplete"}:
            return _change(network, event_type, billing_status=BillingStatus.PAST_DUE)
        return _change(network, event_type, plan=Plan.COMMUNITY,
                       billing_status=BillingStatus.CANCELED)  # fmt: skip
    if event_type == "customer.subscription.deleted":
        network = _locked(stripe_subscription_id=obj.get("id"))
        return network and _change(
            network, event_type, plan=Plan.COMMUNITY, billing_status=BillingStatus.CANCELED
        )
    if event_type == "invoice.payment_failed":
        network = _locked(stripe_customer_id=obj.get("customer"))
        return network and _change(network, event_type, billing_status=BillingStatus.PAST_DUE)
    return None  # stored, but not an event we act on


def _locked(**lookup: Any) -> Network | None:
    if not all(lookup.values()):
        return None
    return Network.objects.select_for_update().filter(**lookup).first()


def _change(network: Network, event_type: str, **fields: str) -> Network:
    before = {name: getattr(network, name) for name in fields}
    for name, value in fields.items():
        setattr(network, name, value)
    network.save(update_fields=list(fields))
    audit_record(actor=None, verb="network.billing", target=network, before=before,
                 after=fields, reason=f"Stripe {event_type}")  # fmt: skip
    return network

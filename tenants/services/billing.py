"""Billing for hosting organisations: Stripe webhooks, or platform staff, set a network's
plan.

Members never pay. A network is on the free community plan until Stripe reports a paid
organisation subscription, or until platform staff move it (`network_plan_set`: a
complimentary plan, or any install with no Stripe keys, where paying by card is off).
Webhooks are verified with the endpoint's signing secret and refused when older than
Stripe's 300-second tolerance; each event is stored once by its id in the transaction
that applies it, so a replayed or duplicated delivery changes nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tenants.utils import get_public_schema_name, schema_context

from core.audit.services import audit_record
from core.members.models import Member
from kernel.errors import ApplicationError, PermissionDenied
from kernel.text import plain_text
from tenants.models import BillingStatus, Network, Plan, StripeEvent

logger = logging.getLogger(__name__)

WEBHOOK_TOLERANCE_SECONDS = 300
# Who may change the network's plan through Stripe (organisers: core.members.backends).
PERMISSION = "tenants.manage_billing"


class WebhookRefused(ApplicationError):
    pass


def stripe_webhook_receive(*, payload: bytes, signature: str) -> StripeEvent:
    """Verify, store and apply one webhook delivery; idempotent by Stripe event id.

    Raises WebhookRefused (nothing stored or changed) for a bad or stale signature or a
    payload that is not an event."""
    if not settings.STRIPE_WEBHOOK_SECRET:
        raise WebhookRefused(_("Stripe webhooks are not configured."))
    try:
        stripe.Webhook.construct_event(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, WEBHOOK_TOLERANCE_SECONDS
        )
        event = json.loads(payload)
        event_id, event_type, obj = event["id"], event["type"], event["data"]["object"]
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError):
        raise WebhookRefused(_("Invalid Stripe webhook.")) from None
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
            return _change(
                network, event_type, plan=Plan.ORGANISATION, billing_status=BillingStatus.ACTIVE
            )
        if status in {"past_due", "unpaid", "incomplete"}:
            return _change(network, event_type, billing_status=BillingStatus.PAST_DUE)
        return _change(
            network, event_type, plan=Plan.COMMUNITY, billing_status=BillingStatus.CANCELED
        )
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
    audit_record(
        actor=None,
        verb="network.billing",
        target=network,
        before=before,
        after=fields,
        reason=f"Stripe {event_type}",
    )
    return network


class BillingRefused(ApplicationError):
    pass


NO_CARD_PAYMENTS = gettext_lazy(
    "Paying by card is not set up here. Hexitime staff can move your network to the "
    "organisation plan: please contact them."
)


def billing_by_card() -> bool:
    """Whether organisers can subscribe through Stripe (its keys and price are set)."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_ORGANISATION_PRICE)


def _stripe() -> stripe.StripeClient:
    if not billing_by_card():
        raise BillingRefused(str(NO_CARD_PAYMENTS))
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}
    )


def _require_organiser(actor: Member) -> None:
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("Only the network's organisers manage its plan."))


def billing_checkout_start(*, actor: Member, network: Network, return_url: str) -> str:
    """A Stripe Checkout page where an organiser subscribes `network` to the organisation
    plan; returns its URL. The plan changes only when Stripe's webhook confirms payment.
    Call inside the network's schema (the organiser is a member there)."""
    _require_organiser(actor)
    if network.plan == Plan.ORGANISATION:
        raise BillingRefused(_("This network is already on the organisation plan."))
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": settings.STRIPE_ORGANISATION_PRICE, "quantity": 1}],
        "client_reference_id": str(network.pk),
        "success_url": f"{return_url}?checkout=done",
        "cancel_url": return_url,
    }
    if network.stripe_customer_id:
        params["customer"] = network.stripe_customer_id
    else:
        params["customer_email"] = actor.email
    try:
        session = _stripe().v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    except stripe.StripeError:
        logger.exception("Stripe refused a checkout session for %s", network.slug)
        raise BillingRefused(_("Stripe is not reachable just now. Please try again.")) from None
    return str(session.url)


def billing_portal_open(*, actor: Member, network: Network, return_url: str) -> str:
    """The Stripe customer portal for `network`'s subscription (change card, cancel)."""
    _require_organiser(actor)
    if not network.stripe_customer_id:
        raise BillingRefused(_("This network has no paid subscription to manage."))
    try:
        session = _stripe().v1.billing_portal.sessions.create(
            params={"customer": network.stripe_customer_id, "return_url": return_url}
        )
    except stripe.StripeError:
        logger.exception("Stripe refused a portal session for %s", network.slug)
        raise BillingRefused(_("Stripe is not reachable just now. Please try again.")) from None
    return str(session.url)


def network_plan_set(*, actor: Member, network: Network, plan: str, reason: str) -> Network:
    """Platform staff put `network` on `plan` (e.g. a complimentary organisation plan),
    giving a reason; audited in the public schema. The billing status and any Stripe
    subscription are left as they are: a later Stripe event still applies. Refuses
    (`BillingRefused`, nothing written) an unknown plan or a missing reason."""
    if not actor.is_staff:
        raise PermissionDenied(_("Only platform staff can set a network's plan."))
    if plan not in Plan.values:
        raise BillingRefused(_("Choose the community or organisation plan."), field="plan")
    reason = plain_text(
        reason,
        name="reason",
        limit=500,
        refusal=BillingRefused,
        missing=_("Give a reason: it is recorded with the change."),
    )
    with schema_context(get_public_schema_name()), transaction.atomic(durable=True):
        locked = Network.objects.select_for_update().get(pk=network.pk)
        if locked.plan == plan:
            return locked
        before = locked.plan
        locked.plan = plan
        locked.save(update_fields=["plan"])
        audit_record(
            actor=actor,
            verb="network.plan_set",
            target=locked,
            before={"plan": before},
            after={"plan": plan},
            reason=reason,
        )
    return locked

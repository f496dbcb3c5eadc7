"""Stripe webhooks set a network's plan: verified, fresh, applied once per event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from django.test import override_settings

from core.audit.models import AuditEvent
from tenants.models import Network, StripeEvent

SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"  # a test-mode signing secret


def _signed(event: dict, *, secret: str = SECRET, at: int | None = None) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def _post(client, event: dict, **signing):
    payload, header = _signed(event, **signing)
    return client.post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def _checkout_completed(network: Network, event_id: str = "evt_checkout_1") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_1",
                "object": "checkout.session",
                "client_reference_id": str(network.pk),
                "customer": "cus_test_1",
                "subscription": "sub_test_1",
            }
        },
    }


pytestmark = pytest.mark.usefixtures("_webhook_secret")


@pytest.fixture
def _webhook_secret():
    with override_settings(STRIPE_WEBHOOK_SECRET=SECRET):
        yield


def test_checkout_completed_moves_the_network_to_the_paid_plan(public_client, network_a, network_b):
    response = _post(public_client, _checkout_completed(network_a))
    assert response.status_code == 200
    network_a.refresh_from_db()
    network_b.refresh_from_db()
    assert (network_a.plan, network_a.billing_status) == ("organisation", "active")
    assert (network_a.stripe_customer_id, network_a.stripe_subscription_id) == (
        "cus_test_1",
        "sub_test_1",
    )
    assert network_b.plan == "community"
    assert AuditEvent.objects.get(verb="network.billing").reason == (
        "Stripe checkout.session.completed"
    )


def test_bad_signature_is_refused_and_changes_nothing(public_client, network_a):
    response = _post(public_client, _checkout_completed(network_a), secret="whsec_wrong")
    assert response.status_code == 400
    network_a.refresh_from_db()
    assert network_a.plan == "community"
    assert not StripeEvent.objects.exists()
    assert not AuditEvent.objects.exists()
    unsigned = public_client.post(
        "/billing/stripe/webhook/", b"{}", content_type="application/json"
    )
    assert unsigned.status_code == 400


def test_payload_older_than_300_seconds_is_refused(public_client, network_a):
    response = _post(public_client, _checkout_completed(network_a), at=int(time.time()) - 301)
    assert response.status_code == 400
    network_a.refresh_from_db()
    assert network_a.plan == "community"
    assert not StripeEvent.objects.exists()


def test_a_duplicate_event_is_processed_once(public_client, network_a):
    event = _checkout_completed(network_a)
    assert _post(public_client, event).status_code == 200
    # The subscription is cancelled, then the old checkout event is delivered again.
    cancelled = {
        "id": "evt_sub_deleted",
        "type": "customer.subscription.deleted",
        "data": {"object": {"id": "sub_test_1", "object": "subscription", "status": "canceled"}},
    }
    assert _post(public_client, cancelled).status_code == 200
    assert _post(public_client, event).status_code == 200
    network_a.refresh_from_db()
    assert (network_a.plan, network_a.billing_status) == ("community", "canceled")
    assert StripeEvent.objects.filter(event_id="evt_checkout_1").count() == 1
    assert AuditEvent.objects.filter(verb="network.billing").count() == 2


def test_subscription_updates_and_failed_payments(public_client, network_a):
    _post(public_client, _checkout_completed(network_a))
    failed = {
        "id": "evt_invoice_failed",
        "type": "invoice.payment_failed",
        "data": {"object": {"id": "in_1", "object": "invoice", "customer": "cus_test_1"}},
    }
    _post(public_client, failed)
    network_a.refresh_from_db()
    assert (network_a.plan, network_a.billing_status) == ("organisation", "past_due")
    recovered = {
        "id": "evt_sub_updated",
        "type": "customer.subscription.updated",
        "data": {"object": {"id": "sub_test_1", "object": "subscription", "status": "active"}},
    }
    _post(public_client, recovered)
    network_a.refresh_from_db()
    assert (network_a.plan, network_a.billing_status) == ("organisation", "active")


def test_an_event_for_no_known_network_is_stored_and_changes_nothing(public_client, network_a):
    stray = {
        "id": "evt_stray",
        "type": "invoice.payment_failed",
        "data": {"object": {"id": "in_2", "object": "invoice", "customer": "cus_unknown"}},
    }
    assert _post(public_client, stray).status_code == 200
    assert StripeEvent.objects.get(event_id="evt_stray").network is None
    network_a.refresh_from_db()
    assert network_a.billing_status == "none"

"""Stripe webhooks set a network's plan: verified, fresh, applied once per event id."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import stripe
from django.test import override_settings

from core.audit.models import AuditEvent
from core.members.models import Role
from tenants.models import Network, StripeEvent

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from core.members.models import Member
    from tests.conftest import NetworkClient

SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"  # a test-mode signing secret


def _signed(
    event: dict[str, Any], *, secret: str = SECRET, at: int | None = None
) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    return payload, f"t={timestamp},v1={signature}"


def _post(client: Client, event: dict[str, Any], **signing: Any) -> TestResponse:
    payload, header = _signed(event, **signing)
    return client.post(
        "/billing/stripe/webhook/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


def _checkout_completed(network: Network, event_id: str = "evt_checkout_1") -> dict[str, Any]:
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
def _webhook_secret() -> Iterator[None]:
    with override_settings(STRIPE_WEBHOOK_SECRET=SECRET):
        yield


def test_checkout_completed_moves_the_network_to_the_paid_plan(
    public_client: Client, network_a: Network, network_b: Network
) -> None:
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


def test_bad_signature_is_refused_and_changes_nothing(
    public_client: Client, network_a: Network
) -> None:
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


def test_payload_older_than_300_seconds_is_refused(
    public_client: Client, network_a: Network
) -> None:
    response = _post(public_client, _checkout_completed(network_a), at=int(time.time()) - 301)
    assert response.status_code == 400
    network_a.refresh_from_db()
    assert network_a.plan == "community"
    assert not StripeEvent.objects.exists()


def test_a_duplicate_event_is_processed_once(public_client: Client, network_a: Network) -> None:
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


def test_subscription_updates_and_failed_payments(
    public_client: Client, network_a: Network
) -> None:
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


def test_an_event_for_no_known_network_is_stored_and_changes_nothing(
    public_client: Client, network_a: Network
) -> None:
    stray = {
        "id": "evt_stray",
        "type": "invoice.payment_failed",
        "data": {"object": {"id": "in_2", "object": "invoice", "customer": "cus_unknown"}},
    }
    assert _post(public_client, stray).status_code == 200
    assert StripeEvent.objects.get(event_id="evt_stray").network is None
    network_a.refresh_from_db()
    assert network_a.billing_status == "none"


# --- Checkout and the customer portal, through the real stripe library and localstripe --


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    """localstripe (with our two added endpoints) on a free port of 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stripe_local.server", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("localstripe did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_settings(localstripe: str) -> Iterator[stripe.StripeClient]:
    client = stripe.StripeClient("sk_test_hexitime", base_addresses={"api": localstripe})
    product = client.v1.products.create(params={"name": "Organisation plan", "type": "service"})
    plan = client.v1.plans.create(
        params={
            "id": f"organisation-{time.monotonic_ns()}",
            "product": product.id,
            "amount": 2500,
            "currency": "gbp",
            "interval": "month",
        }
    )
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_hexitime",
        STRIPE_API_BASE=localstripe,
        STRIPE_ORGANISATION_PRICE=plan.id,
    ):
        yield client


@pytest.fixture
def organiser_a(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email="org@network-a.example", role=Role.ORGANISER)


def test_organiser_upgrades_through_checkout_and_manages_in_the_portal(
    stripe_settings: stripe.StripeClient,
    client_a: NetworkClient,
    organiser_a: Member,
    network_a: Network,
    public_client: Client,
) -> None:
    client_a.force_login(organiser_a)
    page = client_a.get("/settings/billing/").content.decode()
    assert "Community (free)" in page and "Upgrade with Stripe" in page
    response = client_a.post("/settings/billing/", {"action": "upgrade"})
    assert response.status_code == 302
    assert "/checkout/cs_test_" in response["Location"]
    network_a.refresh_from_db()
    assert network_a.plan == "community"  # nothing changes until Stripe confirms payment

    customer = stripe_settings.v1.customers.list(params={"email": organiser_a.email}).data
    assert [c.email for c in customer] == [organiser_a.email]
    # Stripe confirms: the webhook carries the session's customer.
    event = _checkout_completed(network_a)
    event["data"]["object"]["customer"] = customer[0].id
    assert _post(public_client, event).status_code == 200
    network_a.refresh_from_db()
    assert network_a.plan == "organisation"

    page = client_a.get("/settings/billing/").content.decode()
    assert "Organisation" in page and "Upgrade with Stripe" not in page
    portal = client_a.post("/settings/billing/", {"action": "manage"})
    assert "/portal/bps_" in portal["Location"]


def test_members_and_other_networks_cannot_change_the_plan(
    stripe_settings: stripe.StripeClient,
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    organiser_a: Member,
) -> None:
    member = make_member(network_a)
    client_a.force_login(member)
    assert client_a.get("/settings/billing/").status_code == 404
    assert client_a.post("/settings/billing/", {"action": "upgrade"}).status_code == 404
    # An organiser of B is unknown in A: their session does not exist there.
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    assert client_a.get("/settings/billing/").status_code == 404
    upgrade_b = client_b.post("/settings/billing/", {"action": "upgrade"})
    assert upgrade_b.status_code == 302
    network_a.refresh_from_db()
    assert network_a.plan == "community"


def test_stripe_down_is_a_clear_message_not_a_500(
    client_a: NetworkClient, organiser_a: Member, network_a: Network
) -> None:
    with override_settings(
        STRIPE_SECRET_KEY="sk_test_x",
        STRIPE_API_BASE="http://127.0.0.1:9",
        STRIPE_ORGANISATION_PRICE="price_x",
    ):
        client_a.force_login(organiser_a)
        page = client_a.post("/settings/billing/", {"action": "upgrade"}, follow=True)
    assert "Stripe is not reachable just now" in page.content.decode()


def test_without_stripe_the_billing_page_shows_prices_and_who_changes_the_plan(
    client_a: NetworkClient, organiser_a: Member, network_a: Network
) -> None:
    with override_settings(STRIPE_SECRET_KEY="", STRIPE_ORGANISATION_PRICE=""):
        client_a.force_login(organiser_a)
        page = client_a.get("/settings/billing/").content.decode()
        assert "Upgrade with Stripe" not in page
        assert "not available yet" not in page
        assert "Hexitime staff can move your network to the organisation plan" in page
        # Both plans, their prices and what each includes.
        assert "Free" in page and "£1,200 a year" in page
        assert "Up to 250 members" in page and "No member limit" in page
        assert "Federation with other networks" in page and "Your own domain" in page
        refused = client_a.post("/settings/billing/", {"action": "upgrade"}, follow=True)
        assert "not available yet" not in refused.content.decode()
        assert "Hexitime staff can move your network" in refused.content.decode()

"""localstripe (PyPI) on 127.0.0.1 for the billing tests, plus the two endpoints it lacks
and our code uses: Checkout Sessions and customer-portal sessions.

    python -m tests.stripe_local.server PORT

The store stays in memory (localstripe pickles it to /tmp by default, which other runs
would share).
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import resources, server
from localstripe.errors import UserError

resources.Store.dump_to_disk = lambda self: None


def _random_id(prefix: str) -> str:
    return prefix + resources.random_id(24)


async def checkout_session_create(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    if data.get("mode") != "subscription":
        raise UserError(400, "Only mode=subscription is supported here")
    for field in ("success_url", "cancel_url"):
        if not str(data.get(field, "")).startswith("http"):
            raise UserError(400, f"Missing required param: {field}.")
    items = data.get("line_items") or []
    if len(items) != 1:
        raise UserError(400, "Exactly one line item is supported here")
    resources.Plan._api_retrieve(items[0]["price"])  # 404 for an unknown price
    if data.get("customer"):
        customer = resources.Customer._api_retrieve(data["customer"])
    else:
        customer = resources.Customer(email=data.get("customer_email"))
    session_id = _random_id("cs_test_")
    port = request.url.port
    return server.json_response(
        {
            "id": session_id,
            "object": "checkout.session",
            "mode": "subscription",
            "status": "open",
            "customer": customer.id,
            "client_reference_id": data.get("client_reference_id"),
            "metadata": data.get("metadata") or {},
            "success_url": data["success_url"],
            "cancel_url": data["cancel_url"],
            "url": f"http://127.0.0.1:{port}/checkout/{session_id}",
        }
    )


async def portal_session_create(request: web.Request) -> web.Response:
    data = await server.get_post_data(request) or {}
    customer = resources.Customer._api_retrieve(data.get("customer", ""))
    session_id = _random_id("bps_")
    return server.json_response(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "customer": customer.id,
            "return_url": data.get("return_url"),
            "url": f"http://127.0.0.1:{request.url.port}/portal/{session_id}",
        }
    )


server.app.router.add_post("/v1/checkout/sessions", checkout_session_create)
server.app.router.add_post("/v1/billing_portal/sessions", portal_session_create)

if __name__ == "__main__":
    web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None)

"""Stripe billing for hosting organisations (members never pay)."""

from __future__ import annotations

from .env import env_str

STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET", "")
# Point the stripe library at another server (the local Stripe stand-in in tests).
STRIPE_API_BASE = env_str("STRIPE_API_BASE", "https://api.stripe.com")
# The Stripe price of the paid organisation plan (federation, custom domain).
STRIPE_ORGANISATION_PRICE = env_str("STRIPE_ORGANISATION_PRICE", "")
# The organisation plan's price as the billing page shows it. Set it to match the Stripe
# price; with no Stripe keys, staff set plans from the console (tenants.services.billing).
HEXITIME_ORGANISATION_PRICE = env_str("HEXITIME_ORGANISATION_PRICE", "£1,200 a year")

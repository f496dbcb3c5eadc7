from __future__ import annotations

from hexitime.celery import app

from .services import listings_weekly_digest


@app.task
def listings_digest() -> int:
    """Beat runs this weekly in every network's schema."""
    return listings_weekly_digest()

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django_tenants.utils import schema_context

from kernel.db import Busy
from kernel.errors import TRANSIENT_ERRORS

from .services import listing_matches_notify, listing_matches_sweep, listings_weekly_digest


@shared_task
def listings_digest() -> int:
    """Beat runs this weekly in every network's schema."""
    return listings_weekly_digest()


@shared_task(
    autoretry_for=(*TRANSIENT_ERRORS, Busy), max_retries=5, retry_backoff=2, retry_backoff_max=300
)
def listing_matches_notify_task(*, schema_name: str, listing_id: int) -> int:
    """Queued when a request is posted or reopened: tell the members it matches
    (idempotent: nobody is told of one request twice). Returns how many it matched."""
    with schema_context(schema_name):
        return listing_matches_notify(listing_id=listing_id)


@shared_task
def listing_matches_sweep_task() -> int:
    """Beat runs this in every network's schema with the notifications' sweep: queue again
    the matching of requests still pending after the grace period (settings.OUTBOX_GRACE)."""
    return listing_matches_sweep(grace=timedelta(seconds=settings.OUTBOX_GRACE))

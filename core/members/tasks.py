"""Members' tasks: the retention purge of sign-ups never verified. Joining's emails and
sweeps are core.joining.tasks', under their old names."""

from __future__ import annotations

from celery import shared_task

from .services import members_unverified_purge


@shared_task
def members_purge_unverified() -> int:
    """Beat runs this daily in every network's schema (retention)."""
    return members_unverified_purge()

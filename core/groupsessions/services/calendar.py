"""A member's private calendar feed: a secret address Outlook and Google Calendar read
without signing in. The secret is shown once; only its SHA-256 is kept, so a copy of the
database gives nobody a feed. Making a new one revokes the old one at once."""

from __future__ import annotations

import hashlib
import secrets

from core.groupsessions.models import CalendarFeed
from core.members.models import Member
from kernel.db import durable_service


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@durable_service
def calendar_feed_renew(*, actor: Member) -> str:
    """Give the actor a new feed secret (256 random bits), replacing any old one, which
    stops working. Returns the secret: the address is `/calendar/<secret>.ics`."""
    secret = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        member=actor, defaults={"secret_hash": secret_hash(secret), "last_read_at": None}
    )
    return secret


@durable_service
def calendar_feed_revoke(*, actor: Member) -> bool:
    """Turn the actor's feed off; whether there was one."""
    deleted, _ = CalendarFeed.objects.filter(member=actor).delete()
    return bool(deleted)

"""Idempotency keys for the API (the middleware in `middleware.py` applies them).

A client sends `Idempotency-Key: <its own unique string>` with a state-changing request
and the same key when it retries. The first request that gets an answer (any status below
500, except 429) has that answer kept; a repeat with the same key and the same request
gets it again without running anything, a repeat with another body is refused (422), and
one arriving while the first is still running is told to wait (409). A request that failed
with a server or database fault keeps nothing, so its retry runs again: the moves behind
the API are themselves safe to repeat (ledger transfers carry idempotency keys, exchange
moves are refused once made), so nothing happens twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.members.models import Member
from kernel.db import connection

from .models import IdempotentResponse

KEY_KEPT_FOR = timedelta(hours=24)
_LOCK_SPACE = 0x69646D  # first key of the per-(member, key) advisory lock: "idm"


@contextmanager
def idempotency_key_hold(*, member: Member, key: str) -> Iterator[bool]:
    """Hold the member's key for the length of one request; yields False when another
    request holds it. A session lock: a request whose connection dies lets go with it."""
    lock = [_LOCK_SPACE, f"{connection.schema_name}:{member.pk}:{key}"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))", lock)
        held = bool(cursor.fetchone()[0])
    try:
        yield held
    finally:
        if held and connection.is_usable():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", lock)


def idempotent_response_keep(
    *,
    member: Member,
    key: str,
    fingerprint: str,
    status_code: int,
    content_type: str,
    body: bytes,
) -> IdempotentResponse:
    """Keep the answer to the member's keyed request (replacing an expired one)."""
    with transaction.atomic(durable=True):
        kept, _ = IdempotentResponse.objects.update_or_create(
            member=member,
            key=key,
            defaults={
                "fingerprint": fingerprint,
                "status_code": status_code,
                "content_type": content_type,
                "body": body,
                "created_at": timezone.now(),
            },
        )
    return kept

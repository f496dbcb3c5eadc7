"""Database helpers: the typed default connection and the one way a public service runs.

`django.db.connection` is typed as Django's base wrapper, which knows nothing of
`set_tenant()` or `schema_name`; import `connection` from here to have them checked.

`durable_service` is how every public service (a write a view, API or task calls) runs:
in its own durable transaction, with a lock timeout, retried whole on a deadlock or a
serialization failure (PostgreSQL rolled all of it back, so running it again is safe; the
idempotency keys of the ledger make its postings safe too). A lock not granted in time is
a plain refusal, `Busy`, not a hung request.

Also the one escape from the append-only tables' triggers, `actor_label_erasure()`.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar, cast

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db import connection as _connection
from django.db.models import Model, QuerySet
from django.utils import timezone
from django_tenants.postgresql_backend.base import DatabaseWrapper
from psycopg import sql

from kernel.errors import ApplicationError

connection = cast(DatabaseWrapper, _connection)
logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=Model)

RETRYABLE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout reached (or NOWAIT refused)
MAX_ATTEMPTS = 6


class Busy(ApplicationError):
    """Someone else was changing the same thing and it did not free up in time. Nothing
    was written; trying again shortly will usually work."""

    status_code = 409


def transaction_lock(space: int, name: str) -> None:
    """Take the advisory lock (`space`, `name`) until the caller's transaction ends: another
    transaction asking for the same lock waits until this one commits or rolls back."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [space, name])


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def instance_from_row(
    model: type[M], values: Sequence[Any], names: Sequence[str] | None = None
) -> M:
    """An instance of `model` from values a statement written as SQL read, as the ORM
    would have built it (`Model.from_db`): every concrete field, or only the fields
    `names` (attnames; the others deferred). Either way the values come in the model's
    field order, which is how `from_db` takes them."""
    return model.from_db(connection.alias, _attnames(model) if names is None else names, values)


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a database error raised through Django (None if it has none)."""
    return getattr(error.__cause__, "sqlstate", None)


def durable_service(function: Callable[P, T]) -> Callable[P, T]:
    """Run `function` as a public service: in `transaction.atomic(durable=True)` (so never
    inside a caller's transaction), with `SET LOCAL lock_timeout`, retrying the whole of
    it on a deadlock or serialization failure, and refusing with `Busy` when a lock is
    not granted within the timeout."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with transaction.atomic(durable=True):
                    with connection.cursor() as cursor:
                        # SET LOCAL: it ends with the transaction, and Citus forwards it.
                        timeout = int(settings.HEXITIME_LOCK_TIMEOUT_MS)
                        cursor.execute(f"SET LOCAL lock_timeout = '{timeout}ms'")
                    return function(*args, **kwargs)
            except DatabaseError as error:
                code = sqlstate(error)
                if code == LOCK_NOT_AVAILABLE:
                    raise Busy(
                        "Someone else is changing this right now. Nothing was saved; please "
                        "try again in a moment."
                    ) from error
                if code not in RETRYABLE or attempt == MAX_ATTEMPTS:
                    raise
                logger.info("%s: retrying after %s (attempt %d)", function.__name__, code, attempt)
                time.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")

    return run


@contextmanager
def actor_label_erasure() -> Iterator[None]:
    """Inside: ledger transfers and audit events, append-only otherwise, accept an UPDATE
    of `actor_label` alone (their triggers read this transaction-local flag; SET LOCAL, as
    Citus needs). For erasing a closed account's name; only inside a transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("actor_label_erasure() needs a transaction.")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL hexitime.erasing_actor = on")
    # No `finally`: after an error the transaction is aborted and rolls back (to a
    # savepoint taken before the SET at most), which undoes the flag with it.
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL hexitime.erasing_actor = off")


# At most this many outbox rows per network and sweep: a backlog drains over a few sweeps
# instead of flooding the queue at once.
OUTBOX_BATCH = 500


def outbox_claim(pending: QuerySet[Any], *, queued_at: str, grace: timedelta) -> list[int]:
    """The ids of the outbox rows in `pending` (work queued after a commit whose message may
    have been lost) last queued more than `grace` ago, oldest first, at most OUTBOX_BATCH;
    each is touched (`queued_at` set to now) so the next sweeps leave it for another grace
    period. Rows a delivery holds locked are skipped. Call inside a transaction, and queue
    the ids once it commits."""
    now = timezone.now()
    ids = list(
        pending.select_for_update(skip_locked=True)
        .filter(**{f"{queued_at}__lt": now - grace})
        .order_by(queued_at)
        .values_list("pk", flat=True)[:OUTBOX_BATCH]
    )
    pending.model.objects.filter(pk__in=ids).update(**{queued_at: now})
    return ids


__all__ = [
    "Busy",
    "actor_label_erasure",
    "connection",
    "durable_service",
    "outbox_claim",
    "sqlstate",
]


def schemas_union_fetch(
    branch: sql.SQL, schema_names: list[str], **params: sql.Composable
) -> list[tuple[Any, ...]]:
    """One row per named schema in one query: `branch` (formatted with `{name}` as the
    schema's name as a literal, `{schema}` as its identifier, and `params`) for each,
    joined by UNION ALL. Runs from whatever schema is active (the public one serves)."""
    if not schema_names:
        return []
    query = sql.SQL("\nUNION ALL\n").join(
        branch.format(name=sql.Literal(name), schema=sql.Identifier(name), **params)
        for name in schema_names
    )
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.cursor.connection))
        return cursor.fetchall()

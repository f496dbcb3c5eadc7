"""The default connection, typed as what it is: django-tenants' schema-aware wrapper.

`django.db.connection` is typed as Django's base wrapper, which knows nothing of
`set_tenant()` or `schema_name`; import `connection` from here to have them checked.
Also the one escape from the append-only tables' triggers, `actor_label_erasure()`.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from django.db import connection as _connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

connection = cast(DatabaseWrapper, _connection)


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


__all__ = ["actor_label_erasure", "connection"]

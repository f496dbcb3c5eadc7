"""Values kept in Django's cache (Redis; keys carry the current network's schema) that
the platform can also do without: with Redis down they are computed on every call."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django_tenants.utils import schema_context
from redis.exceptions import RedisError

T = TypeVar("T")


def cache_kept(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """`compute()`'s value kept under `key` for `seconds`, None included (it is stored in
    a one-item tuple); with Redis unreachable, computed afresh and nothing is kept."""
    try:
        kept = cache.get(key)
    except RedisError:
        return compute()
    if kept is not None:
        value: T = kept[0]
        return value
    value = compute()
    with contextlib.suppress(RedisError):
        cache.set(key, (value,), seconds)
    return value


def cache_forget(key: str, *, schema: str | None = None) -> None:
    """Drop what `cache_kept` keeps under `key`: now, and again when the caller's
    transaction commits (a page read between the two may have kept the old rows). With
    Redis unreachable nothing is dropped: the value lives out its `seconds`. `schema`:
    the network whose value it is, when the caller may be serving another (the staff
    console); by default the current one."""

    def forget() -> None:
        where = schema_context(schema) if schema else contextlib.nullcontext()
        with where, contextlib.suppress(RedisError):
            cache.delete(key)

    forget()
    transaction.on_commit(forget)

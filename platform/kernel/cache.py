"""Values kept in Django's cache (Redis; keys carry the current network's schema) that
the platform can also do without: with Redis down they are computed on every call."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
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

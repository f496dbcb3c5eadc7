"""Sessions read from Redis and written through to the database (Django's `cached_db`),
standing a Redis outage: while Redis cannot be reached they are read from and written to
the database alone, so signing in and every signed-in page go on working (tests/faults).

Keys carry the network's schema (the cache's KEY_FUNCTION), like the `django_session`
table they mirror, so one network's cookie means nothing on another's host. A session is
kept in Redis for `KEPT_SECONDS` at most, then read again from the database: a change
whose copy could not reach Redis (a sign-out during an outage that Redis outlives) shows
within that time.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.core.cache.backends.base import BaseCache
from redis.exceptions import RedisError

KEPT_SECONDS = 300


class SessionStore(cached_db.SessionStore):
    # Django's, missing from django-stubs: cached_db's cache, and SessionBase's and
    # db.SessionStore's readers (the ignores below).
    _cache: BaseCache

    def load(self) -> dict[str, Any]:
        with contextlib.suppress(RedisError):
            data: dict[str, Any] | None = self._cache.get(self.cache_key)
            if data is not None:
                return data
        session = self._get_session_from_db()  # type: ignore[attr-defined]
        if session is None:
            return {}
        data = self.decode(session.session_data)
        self._keep(data, self.get_expiry_age(expiry=session.expire_date))
        return data

    def exists(self, session_key: str | None) -> bool:
        if not session_key:
            return False
        with contextlib.suppress(RedisError):
            if self.cache_key_prefix + session_key in self._cache:
                return True
        return DatabaseStore.exists(self, session_key)

    def save(self, must_create: bool = False) -> None:
        DatabaseStore.save(self, must_create)
        self._keep(self._get_session(), self.get_expiry_age())  # type: ignore[attr-defined]

    def delete(self, session_key: str | None = None) -> None:
        DatabaseStore.delete(self, session_key)
        key = session_key or self.session_key
        if key is not None:
            with contextlib.suppress(RedisError):
                self._cache.delete(self.cache_key_prefix + key)

    def _keep(self, data: dict[str, Any], seconds: int) -> None:
        with contextlib.suppress(RedisError):
            self._cache.set(self.cache_key, data, min(seconds, KEPT_SECONDS))

"""Sessions kept in the database with Redis in front (Django's cached_db), carrying on
through a Redis outage: Django's backend already reads and writes the database when the
cache fails to load or save; here checking and deleting a session do the same, so signing
in and out keeps working while Redis is down (tests/faults)."""

from __future__ import annotations

import logging

from django.contrib.sessions.backends import cached_db
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def exists(self, session_key: str) -> bool:
        try:
            return super().exists(session_key)
        except RedisError:
            logger.warning("Session cache unreachable: checking the database only")
            return super(cached_db.SessionStore, self).exists(session_key)

    def delete(self, session_key: str | None = None) -> None:
        # The database row goes first (Django's order); only the cache's copy can be left,
        # and it expires with the session (SESSION_COOKIE_AGE).
        try:
            super().delete(session_key)
        except RedisError:
            logger.warning("Session cache unreachable: the session was deleted from the database")

from __future__ import annotations

from kernel.cache import cache_forget, cache_kept

from .models import SsoSettings

# The settings are read on every sign-in page, so they are kept in the cache (whose keys
# carry the network's schema) and dropped when they change (sso_settings_forget). With
# Redis down they are read from the database: signing in must work without it.
CACHE_KEY = "sso:settings"
CACHE_SECONDS = 300


def sso_settings() -> SsoSettings | None:
    """The current network's single sign-on, or None when it has none."""
    return cache_kept(CACHE_KEY, CACHE_SECONDS, SsoSettings.objects.filter(pk=1).first)


def sso_settings_forget() -> None:
    cache_forget(CACHE_KEY)


def password_sign_in_allowed() -> bool:
    """Whether members of the current network may sign in with a password: yes unless an
    organiser connected a provider and turned passwords off."""
    current = sso_settings()
    return current is None or current.password_sign_in

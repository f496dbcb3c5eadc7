"""The one thing joining must ask single sign-on: does this network sign in through an
identity provider, and may its members still choose a password?

Single sign-on is above joining (a person signing in through the provider joins through
core.joining.services), so joining cannot import it. This module is the port: joining
asks `network_provider()`, and core.sso's `AppConfig.ready()` fills it at start-up with
its cached settings lookup. Unfilled (core.sso not installed), no network has a provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class NetworkProvider(Protocol):
    """What joining reads of a network's single sign-on settings (core.sso's SsoSettings)."""

    @property
    def name(self) -> str: ...

    @property
    def password_sign_in(self) -> bool: ...


def _no_provider() -> NetworkProvider | None:
    return None


_lookup: list[Callable[[], NetworkProvider | None]] = [_no_provider]


def network_provider_lookup_set(lookup: Callable[[], NetworkProvider | None]) -> None:
    """Called once at start-up by the app that knows the current network's provider."""
    _lookup[0] = lookup


def network_provider() -> NetworkProvider | None:
    """The current network's identity provider, or None when it has none."""
    return _lookup[0]()


def password_sign_in_allowed() -> bool:
    """Whether people of the current network may join and sign in with a password: yes
    unless an organiser connected a provider and turned passwords off."""
    current = network_provider()
    return current is None or current.password_sign_in

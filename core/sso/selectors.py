from __future__ import annotations

from .models import SsoSettings


def sso_settings() -> SsoSettings | None:
    """The current network's single sign-on, or None when it has none."""
    return SsoSettings.objects.filter(pk=1).first()


def password_sign_in_allowed() -> bool:
    """Whether members of the current network may sign in with a password: yes unless an
    organiser connected a provider and turned passwords off."""
    current = sso_settings()
    return current is None or current.password_sign_in

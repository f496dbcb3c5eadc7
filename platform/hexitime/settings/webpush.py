"""Web Push for members who turn it on (core/notifications/push.py)."""

from __future__ import annotations

from .env import env_int, env_str

# One VAPID key pair per deployment, base64url (`hexitime manage webpush_keys` makes one).
# Unset, push is off: the notification settings page says it is not available here.
WEBPUSH_VAPID_PRIVATE_KEY = env_str("WEBPUSH_VAPID_PRIVATE_KEY", "")
WEBPUSH_VAPID_PUBLIC_KEY = env_str("WEBPUSH_VAPID_PUBLIC_KEY", "")
# Who push services may contact about our messages (the VAPID `sub` claim).
WEBPUSH_VAPID_SUBJECT = env_str("WEBPUSH_VAPID_SUBJECT", "mailto:support@hexitime.example")
# The server posts to a browser's endpoint: only to these push services' hosts (or their
# subdomains), over https, so a member cannot point it at an address inside our network.
WEBPUSH_SERVICE_HOSTS = [
    "fcm.googleapis.com",  # Chrome, Edge on Android, Samsung Internet
    "updates.push.services.mozilla.com",  # Firefox
    "push.apple.com",  # Safari, iOS home-screen apps (web.push.apple.com)
    "notify.windows.com",  # Edge on Windows (WNS)
]
# Further origins allowed exactly (the tests' local push service, "http://127.0.0.1:PORT").
WEBPUSH_EXTRA_ORIGINS: list[str] = []
# How long a push service keeps a message for a device that is off (seconds).
WEBPUSH_TTL = env_int("WEBPUSH_TTL", 24 * 3600)

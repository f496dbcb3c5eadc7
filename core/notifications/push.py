"""Web Push (RFC 8030, payloads encrypted per RFC 8291, signed with VAPID per RFC 8292).

The deployment has one VAPID key pair (settings `WEBPUSH_VAPID_PRIVATE_KEY` and
`WEBPUSH_VAPID_PUBLIC_KEY`, made by `hexitime manage webpush_keys`); without it push is
off and the settings page says so. pywebpush encrypts and signs each message; the browser's
push service (Google's, Mozilla's, Apple's...) carries it to the device.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError


class PushRefused(ApplicationError):
    pass


def push_enabled() -> bool:
    return bool(settings.WEBPUSH_VAPID_PRIVATE_KEY and settings.WEBPUSH_VAPID_PUBLIC_KEY)


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID key pair: the private key (its 32 bytes) and the public key (the
    uncompressed P-256 point browsers take as `applicationServerKey`), both base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(private), b64url_encode(public)


def endpoint_check(endpoint: str) -> str:
    """The endpoint if it is a push service's: https on a host in
    settings.WEBPUSH_SERVICE_HOSTS (or one of their subdomains), or an origin in
    settings.WEBPUSH_EXTRA_ORIGINS. The server posts to it, so anything else (an address
    inside our own network, say) is refused."""
    parts = urlsplit(endpoint)
    origin = f"{parts.scheme}://{parts.netloc}"
    host = (parts.hostname or "").lower()
    if origin in settings.WEBPUSH_EXTRA_ORIGINS:
        return endpoint
    known = any(host == h or host.endswith("." + h) for h in settings.WEBPUSH_SERVICE_HOSTS)
    if parts.scheme != "https" or not known:
        raise PushRefused(
            _("This browser's push service is not one we can send to."), field="endpoint"
        )
    return endpoint


def keys_check(*, p256dh: str, auth: str) -> None:
    """Refuse keys that cannot encrypt a message: a P-256 public point and a 16-byte secret."""
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except (binascii.Error, ValueError):
        raise PushRefused(_("The browser's push keys are not valid."), field="keys") from None
    if len(secret) != 16:
        raise PushRefused(_("The browser's push keys are not valid."), field="keys")


def push_payload(*, title: str, body: str, url: str) -> str:
    """What the service worker shows (theming/templates/theming/sw.js): JSON, at most
    about 3 KB once encrypted, so a long body is cut."""
    return json.dumps({"title": title[:200], "body": body[:1000], "url": url})

"""Who is asking, and how often: sign-in lockout (django-axes) and rate limits
(django-ratelimit), keyed on the client address that `core.members.auth.client_ip` reads; and
what a page may load (django-csp)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from csp.constants import NONE, SELF

from .env import env_int, env_str


def media_origins() -> list[str]:
    """Where signed URLs to uploaded media point, when they are in a bucket."""
    bucket = env_str("HEXITIME_MEDIA_BUCKET", "")
    if not bucket:
        return []
    endpoint = env_str("HEXITIME_S3_ENDPOINT_URL", "")
    if endpoint:
        parts = urlsplit(endpoint)
        return [f"{parts.scheme}://{parts.netloc}"]
    return ["https://*.amazonaws.com"]


# Reverse proxies in front of the web processes that append the address they saw to
# X-Forwarded-For (the TLS proxy of docs/operations/deployment.md, an ingress). 0: the
# connecting address is the client's. Each trusted proxy must append, never pass on, the
# header the client sent: addresses further left are the client's own claim.
HEXITIME_TRUSTED_PROXIES = env_int("HEXITIME_TRUSTED_PROXIES", 0)

# Sign-in lockout: five failures for an address from one client lock that pair out for
# fifteen minutes; on the public site (platform staff) five from one client lock the client
# out too. Counts live in the cache, whose keys carry the schema (django_tenants.cache), so
# a lockout in one network never reaches another network or the public site.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "core.members.auth.sign_in_identity"
AXES_CLIENT_IP_CALLABLE = "core.members.auth.client_ip"
AXES_LOCKOUT_PARAMETERS = "core.members.auth.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "core.members.auth.lockout_response"
# Axes logs the address and username of every failure at WARNING; those are personal data.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]
# Without this every process prints "AXES: BEGIN version ..." banners at start-up.
AXES_VERBOSE = False

# Rate limits (django-ratelimit, counted in the cache like the lockout): joining a network,
# per client address and per network (core/members/throttles.py).
RATELIMIT_IP_META_KEY = "core.members.auth.client_ip"
HEXITIME_JOIN_RATE_PER_CLIENT = env_str("HEXITIME_JOIN_RATE_PER_CLIENT", "5/h")
HEXITIME_JOIN_RATE_PER_NETWORK = env_str("HEXITIME_JOIN_RATE_PER_NETWORK", "100/h")
# How often one client may check CPD record codes (core/cpd/throttles.py).
HEXITIME_CPD_VERIFY_RATE = env_str("HEXITIME_CPD_VERIFY_RATE", "30/m")

# Content-Security-Policy (django-csp): scripts, styles, fonts and everything else from this
# origin only; no inline script, no inline style, no eval. Pages set per-element CSS values
# (a preview's colours, a shaded cell) as data-css-vars, which theming/css-vars.js applies.
# Images may also come from the media bucket (members' photos behind signed URLs).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *media_origins()],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}

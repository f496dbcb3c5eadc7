"""Who is asking, and how often: sign-in lockout (django-axes), rate limits
(django-ratelimit), both keyed on the client address that `hexitime.auth.client_ip` reads."""

from __future__ import annotations

from datetime import timedelta

from .env import env_int

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
AXES_USERNAME_CALLABLE = "hexitime.auth.sign_in_identity"
AXES_CLIENT_IP_CALLABLE = "hexitime.auth.client_ip"
AXES_LOCKOUT_PARAMETERS = "hexitime.auth.lockout_parameters"
AXES_LOCKOUT_CALLABLE = "hexitime.auth.lockout_response"
# Axes logs the address and username of every failure at WARNING; those are personal data.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address"]

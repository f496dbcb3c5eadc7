"""How often a client, and a network as a whole, may ask to join (django-ratelimit; the
rates are settings, the client is `core.members.auth.client_ip`). Counts live in the cache,
whose keys carry the schema, so one network's joins never use up another's."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

from core.members.auth import client_ip
from kernel.db import connection
from kernel.errors import ApplicationError


class JoinThrottled(ApplicationError):
    status_code = 429


def _network(group: str, request: HttpRequest) -> str:
    return connection.schema_name


def client_key(group: str, request: HttpRequest) -> str:
    """The client's address as django-ratelimit's "ip" key counts it (an IPv6 client by its
    /64), except that no address is one shared count rather than a server error (a server
    on a Unix socket with no proxy in front names no client)."""
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return ""
    prefix = 32 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def join_throttle(request: HttpRequest) -> None:
    """Count a request to join; refuse it (`JoinThrottled`) once this client or this
    network has asked too often in the current window."""
    # Both are counted every time, so a refused client still uses up the network's count.
    by_client = is_ratelimited(
        request,
        group="members.join.client",
        key=client_key,
        rate=settings.HEXITIME_JOIN_RATE_PER_CLIENT,
        increment=True,
    )
    by_network = is_ratelimited(
        request,
        group="members.join.network",
        key=_network,
        rate=settings.HEXITIME_JOIN_RATE_PER_NETWORK,
        increment=True,
    )
    if by_client or by_network:
        raise JoinThrottled(
            "Too many requests to join from here. Please try again in an hour.",
            code="join_throttled",
        )

"""Subdomains: which a network may have, and what to suggest when one is taken."""

from __future__ import annotations

from django.conf import settings

from kernel.errors import ApplicationError
from tenants.models import SLUG_VALIDATOR, Network

RESERVED_SLUGS = frozenset(
    {
        "www",
        "api",
        "admin",
        "static",
        "media",
        "public",
        "mail",
        "smtp",
        "app",
        "staff",
        "status",
        "help",
        "support",
        "docs",
        "billing",
        "hexitime",
        "template",
    }
)


class NetworkNameRefused(ApplicationError):
    pass


def network_domain(slug: str) -> str:
    return f"{slug}.{settings.HEXITIME_BASE_DOMAIN}"


def slug_validate(slug: str) -> None:
    """Refuse a subdomain an organiser cannot have, saying why and what to try instead."""
    if slug in RESERVED_SLUGS:
        raise NetworkNameRefused(f"“{slug}” is reserved. Please choose another.", field="slug")
    try:
        SLUG_VALIDATOR(slug)
    except Exception:
        raise NetworkNameRefused(str(SLUG_VALIDATOR.message), field="slug") from None
    if Network.objects.filter(slug=slug).exists():
        raise NetworkNameRefused(
            f"“{slug}” is taken. How about “{slug_suggest(slug)}”?",
            field="slug",
            suggestion=slug_suggest(slug),
        )


def slug_suggest(slug: str) -> str:
    taken = set(Network.objects.filter(slug__startswith=slug).values_list("slug", flat=True))
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    return f"{slug}-{n}"[:40]

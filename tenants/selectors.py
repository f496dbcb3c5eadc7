"""Network identity: the lookups every app may make about a network (which networks there
are, a network's language and address). Nothing here knows members or the ledger; the
staff console's figures are tenants.services.overview."""

from __future__ import annotations

from typing import Protocol, cast

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from kernel.db import connection

from .models import Network


class HasLanguage(Protocol):
    """Anyone with a language of their own, e.g. a member (core.members sits above this
    module, so it is not imported here)."""

    @property
    def language(self) -> str: ...


def network_current() -> Network:
    """The network the connection is set to: a request's (the tenant middleware sets the
    connection to `request.tenant`) or a `tenant_context`'s. `connection.tenant`, typed."""
    return cast(Network, connection.tenant)


def network_list() -> QuerySet[Network]:
    """Every network (never the public site's own row), with its primary domain."""
    return (
        Network.objects.exclude(schema_name=get_public_schema_name())
        .prefetch_related("domains")
        .order_by("name")
    )


def network_language(network: Network) -> str:
    """The language of a network's pages and emails for someone who has not chosen one:
    its organiser sets it on the branding page (theming.Theme.default_language)."""
    try:
        language: str = network.theme.default_language
    except ObjectDoesNotExist:  # never branded: the platform's default
        return settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def recipient_language(member: HasLanguage, network: Network) -> str:
    """The language to write to a member in: their own choice, else their network's."""
    return (
        member.language
        if member.language in dict(settings.LANGUAGES)
        else (network_language(network))
    )


def network_url(network: Network, path: str = "/") -> str:
    """The absolute address of a page of a network, for emails: its primary domain, over
    https in production; in development plain http on the port `hexitime up` serves."""
    domain = network.domains.get(is_primary=True).domain
    if settings.DEBUG:
        port = "" if settings.HEXITIME_PORT == 80 else f":{settings.HEXITIME_PORT}"
        return f"http://{domain}{port}{path}"
    return f"https://{domain}{path}"

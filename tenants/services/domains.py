"""Custom domains for networks on the organisation plan.

An organiser claims a domain; it routes to their network only after a DNS TXT record at
`_hexitime-verify.<domain>` carries the claim's token. The lookup goes through a
`TxtResolver` named by the HEXITIME_TXT_RESOLVER setting, so tests can drive it.
"""

from __future__ import annotations

import re
import secrets
from typing import Protocol

import dns.exception
import dns.nameserver
import dns.resolver
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.members.models import Member
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from tenants.models import Domain, DomainClaim, Network
from tenants.plans import plan_feature_require

_HOSTNAME = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
TXT_PREFIX = "_hexitime-verify"
# Who may claim and verify the network's domains (organisers: core.members.backends).
PERMISSION = "tenants.manage_domains"


class DomainRefused(ApplicationError):
    pass


class TxtResolver(Protocol):
    def txt_records(self, name: str) -> list[str]:
        """Every TXT string at `name` (empty if none or the name does not exist)."""
        ...


class DnsTxtResolver:
    """Looks TXT records up with dnspython: in the servers HEXITIME_DNS_NAMESERVERS lists
    (IP addresses with optional ports, comma-separated), or the system's when it is empty;
    waits at most HEXITIME_DNS_TIMEOUT seconds."""

    def txt_records(self, name: str) -> list[str]:
        nameservers = _nameservers(settings.HEXITIME_DNS_NAMESERVERS)
        resolver = dns.resolver.Resolver(configure=not nameservers)
        if nameservers:
            resolver.nameservers = nameservers
        try:
            answer = resolver.resolve(name, "TXT", lifetime=settings.HEXITIME_DNS_TIMEOUT)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            return []
        except dns.exception.Timeout:
            raise DomainRefused(_("The DNS lookup timed out. Please try again.")) from None
        return [b"".join(record.strings).decode(errors="replace") for record in answer]


def _nameservers(configured: str) -> list[dns.nameserver.Nameserver]:
    """`"192.0.2.53, 127.0.0.1:5353, [::1]:5353"` as dnspython nameservers (port 53 unless
    given)."""
    found: list[dns.nameserver.Nameserver] = []
    for entry in filter(None, (part.strip() for part in configured.split(","))):
        host, port = entry, 53
        if entry.startswith("["):  # [IPv6]:port
            host, _bracket, rest = entry[1:].partition("]")
            port = int(rest.lstrip(":") or 53)
        elif entry.count(":") == 1:  # IPv4:port (a bare IPv6 address has several colons)
            host, _colon, number = entry.partition(":")
            port = int(number)
        found.append(dns.nameserver.Do53Nameserver(host, port))
    return found


def txt_record_name(claim: DomainClaim) -> str:
    return f"{TXT_PREFIX}.{claim.domain}"


def txt_record_value(claim: DomainClaim) -> str:
    return f"hexitime-verify={claim.token}"


def _require_organiser(actor: Member) -> None:
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("Only the network's organisers manage its domains."))


def custom_domain_add(*, actor: Member, network: Network, domain: str) -> DomainClaim:
    """Claim `domain` for `network` (organisers, organisation plan only: `PlanLimitReached`
    otherwise, nothing written). It does not route until verified."""
    _require_organiser(actor)
    plan_feature_require(network=network, feature="custom_domains")
    name = domain.strip().lower().rstrip(".")
    base = settings.HEXITIME_BASE_DOMAIN
    if not _HOSTNAME.match(name):
        raise DomainRefused(
            _("“%(name)s” is not a domain name, e.g. timebank.example.nhs.uk.") % {"name": name},
            field="domain",
        )
    if name == base or name.endswith(f".{base}"):
        raise DomainRefused(
            _("Domains under %(base)s are Hexitime's own.") % {"base": base}, field="domain"
        )
    if Domain.objects.filter(domain=name).exists():
        raise DomainRefused(_("“%(name)s” is already in use.") % {"name": name}, field="domain")
    try:
        with transaction.atomic(durable=True):
            claim = DomainClaim.objects.create(
                network=network, domain=name, token=secrets.token_urlsafe(24)
            )
            audit_record(actor=actor, verb="domain.claim", target=claim, after={"domain": name})
    except IntegrityError:
        raise DomainRefused(
            _("“%(name)s” is already claimed.") % {"name": name}, field="domain"
        ) from None
    return claim


def access_domain_claim(claim_id: int, *, actor: Member, network: Network) -> DomainClaim:
    """`network`'s claim `claim_id`, for someone who manages its domains; `NotFound` for
    anyone else or any other claim."""
    claim = DomainClaim.objects.filter(pk=claim_id, network=network).first()
    if claim is None or not actor.has_perm(PERMISSION):
        raise NotFound(_("No such domain."))
    return claim


def domain_claims_list(*, actor: Member, network: Network) -> list[DomainClaim]:
    """`network`'s domain claims, for someone who manages its domains (`NotFound` for
    anyone else, as the domains page answers them)."""
    if not actor.has_perm(PERMISSION):
        raise NotFound(_("No such domain."))
    return list(network.domain_claims.all())


def custom_domain_verify(*, actor: Member, claim: DomainClaim) -> DomainClaim:
    """Check the claim's TXT record; when it carries the token, route the domain to the
    network. Idempotent: a verified claim is returned as it is. A network no longer on the
    organisation plan cannot verify a claim made while it was (`PlanLimitReached`)."""
    _require_organiser(actor)
    if claim.verified_at is not None:
        return claim
    plan_feature_require(network=claim.network, feature="custom_domains")
    resolver: TxtResolver = import_string(settings.HEXITIME_TXT_RESOLVER)()
    if txt_record_value(claim) not in resolver.txt_records(txt_record_name(claim)):
        raise DomainRefused(
            _(
                "No TXT record “%(value)s” at %(name)s yet. DNS changes "
                "can take a while to appear; try again later."
            )
            % {"value": txt_record_value(claim), "name": txt_record_name(claim)}
        )
    with transaction.atomic(durable=True):
        locked = DomainClaim.objects.select_for_update().get(pk=claim.pk)
        if locked.verified_at is None:
            locked.verified_at = timezone.now()
            locked.save(update_fields=["verified_at"])
            Domain.objects.create(domain=locked.domain, tenant=locked.network, is_primary=False)
            audit_record(
                actor=actor, verb="domain.verify", target=locked, after={"domain": locked.domain}
            )
    return locked

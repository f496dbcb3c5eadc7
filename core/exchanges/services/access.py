"""Fetching an exchange for a member, or not finding it: what they may not see is simply
not found. Partner networks' members reach exchanges hosted here by id and network."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from core.exchanges.models import Exchange
from core.exchanges.shown import EXCHANGE_SHOWN, exchange_from_row
from core.members.models import Member
from kernel.db import connection
from kernel.errors import NotFound
from ledger.federation.models import RemoteExchange
from ledger.federation.selectors import federation_partners
from tenants.models import Network

from .common import side_of


def access_exchange(
    exchange_id: int, *, member: Member, member_network: Network | None = None
) -> Exchange:
    """An exchange the member may see: one they take part in, or, for an organiser of this
    network, one that has been disputed (its thread is private to the two sides until
    then). Anything else is not found. Whether either side blocked the other is read
    with it (`sides_blocked`), in one statement (`core.exchanges.shown.EXCHANGE_SHOWN`)."""
    with connection.cursor() as cursor:
        cursor.execute(EXCHANGE_SHOWN, {"exchange": exchange_id})
        row = cursor.fetchone()
    if row is None:
        raise NotFound(_("No such exchange."))
    exchange = exchange_from_row(row)
    exchange.blocked_when_read = row[-1]  # type: ignore[attr-defined]  # for sides_blocked
    if side_of(exchange, member, member_network) is not None:
        return exchange
    if (
        member_network is None
        and exchange.dispute_reason
        and member.has_perm("exchanges.settle_dispute")
    ):
        return exchange
    raise NotFound(_("No such exchange."))


def access_partner_network(slug: str, *, network: Network) -> Network:
    """A network that exchanges time with `network`, by its slug. Any other, like one
    that does not exist, is not found: nothing about non-partners leaks."""
    host = Network.objects.filter(slug=slug, status=Network.Status.ACTIVE).first()
    if host is None or host.pk == network.pk or not federation_partners(network, host):
        raise NotFound(_("No such network."))
    return host


def access_partner_exchange(
    slug: str, exchange_id: int, *, member: Member, network: Network
) -> tuple[Network, Exchange]:
    """An exchange hosted by a partner network in which `member` of `network` takes part,
    read inside the host's schema. Returns the host and the exchange."""
    host = access_partner_network(slug, network=network)
    linked = RemoteExchange.objects.filter(
        host_network=host,
        exchange_id=exchange_id,
        guest_network=network,
        guest_member_id=member.pk,
    ).exists()
    if not linked:
        raise NotFound(_("No such exchange."))
    with tenant_context(host):
        return host, access_exchange(exchange_id, member=member, member_network=network)

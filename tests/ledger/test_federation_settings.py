"""Organisers choose, on their own network's page, whether and with whom it exchanges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Role
from ledger.federation.models import Membership
from ledger.federation.selectors import federation_partners
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

PAGE = "/settings/federation/"


def _membership(network: Network) -> Membership | None:
    return Membership.objects.filter(network=network).first()


def test_two_organisers_make_their_networks_partners(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    upgrade(network_a, network_b)
    olive, oscar = (make_member(n, role=Role.ORGANISER) for n in (network_a, network_b))
    client_b.force_login(oscar)
    assert client_b.post(PAGE, {"opted_in": "on"}).status_code == 302
    client_a.force_login(olive)
    page = client_a.get(PAGE)
    assert b"Network B" in page.content
    assert client_a.post(PAGE, {"opted_in": "on", "partners": [network_b.pk]}).status_code == 302
    assert not federation_partners(network_a, network_b)  # B has not accepted A yet
    assert b"Network B (accepts you)" not in client_a.get(PAGE).content
    client_b.post(PAGE, {"opted_in": "on", "partners": [network_a.pk]})
    assert federation_partners(network_a, network_b)
    assert b"Network B (partners both ways)" in client_a.get(PAGE).content
    with tenant_context(network_a):
        event = AuditEvent.objects.get(verb="federation.partners")
        assert event.after == {"partners": ["network-b"]}


def test_refusals_are_plain_and_change_nothing(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    olive = make_member(network_a, role=Role.ORGANISER)
    client_a.force_login(olive)
    refused = client_a.post(PAGE, {"opted_in": "on"})  # community plan
    assert refused.status_code == 400
    assert b"organisation plan" in refused.content
    membership_a = _membership(network_a)
    assert membership_a is None or not membership_a.opted_in
    upgrade(network_a)
    for partners in (["not-a-number"], [network_b.pk], [network_a.pk]):  # B is not in it
        response = client_a.post(PAGE, {"opted_in": "on", "partners": partners})
        assert response.status_code == 400
        assert b"Choose partners from the networks listed" in response.content
    membership_a = _membership(network_a)
    assert membership_a is None or not membership_a.opted_in


def test_only_organisers_of_the_network_reach_the_page(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    upgrade(network_a, network_b)
    client_a.force_login(make_member(network_a))
    assert client_a.get(PAGE).status_code == 403
    assert client_a.post(PAGE, {"opted_in": "on"}).status_code == 403
    client_b.force_login(make_member(network_b, role=Role.ORGANISER))
    client_b.post(PAGE, {"opted_in": "on"})  # B's organiser changes only B
    membership_b = _membership(network_b)
    assert membership_b is not None and membership_b.opted_in
    assert _membership(network_a) is None

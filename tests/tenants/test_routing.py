"""Routing by Host: the base domain is the public site, <slug>.<base> a network."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from ledger.services import gift_grant
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import Settings

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_each_network_host_reaches_its_own_network(
    client_a: NetworkClient, client_b: NetworkClient, network_a: Network, network_b: Network
) -> None:
    page_a = client_a.get("/")
    page_b = client_b.get("/")
    assert page_a.status_code == page_b.status_code == 200
    assert page_a.context["network"].schema_name == network_a.schema_name
    assert page_b.context["network"].schema_name == network_b.schema_name
    assert b"Welcome to Network A" in page_a.content
    assert b"Network B" not in page_a.content


def test_public_host_serves_the_public_site(public_client: Client, network_a: Network) -> None:
    page = public_client.get("/")
    assert page.status_code == 200
    assert page.context["network"] is None
    assert b"Network A" in page.content  # the public site lists networks
    html = page.content.decode()
    assert '<a href="/console/login/">Staff sign-in</a>' in html
    assert re.search(
        r'<a href="http://network-a\.[^"]+/accounts/login/">Sign in to Network A</a>', html
    )


@pytest.mark.django_db
def test_unknown_host_gets_a_friendly_404_not_a_500(public_client: Client) -> None:
    page = Client(HTTP_HOST="no-such-place.localhost").get("/")
    assert page.status_code == 404
    assert b"There is no network at no-such-place.localhost" in page.content
    assert b"Go to the Hexitime home page" in page.content


def test_a_network_path_is_not_served_on_another_host(
    public_client: Client, network_a: Network
) -> None:
    # The login page exists on network sites only.
    assert public_client.get("/accounts/login/").status_code == 404
    assert Client(HTTP_HOST=host_of(network_a)).get("/accounts/login/").status_code == 200


def test_a_signed_in_members_home_shows_their_credit(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a, full_name="Alice Adeyemi")
    with tenant_context(network_a):
        gift_grant(member=alice)
    client_a.force_login(alice)
    page = client_a.get("/").content.decode()
    assert "<h1>Hello Alice</h1>" in page
    assert "You have <strong>2 hours</strong> of credit." in page
    assert "Welcome gift: +2 hours" in page


def test_network_urls_are_absolute_on_the_primary_domain(
    network_a: Network, settings: Settings
) -> None:
    from tenants.selectors import network_url

    settings.DEBUG = False
    assert network_url(network_a, "/exchanges/4/") == "https://network-a.localhost/exchanges/4/"
    settings.DEBUG, settings.HEXITIME_PORT = True, 8000  # `hexitime up` on a laptop
    assert network_url(network_a) == "http://network-a.localhost:8000/"

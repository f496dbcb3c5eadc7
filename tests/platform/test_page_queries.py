"""Queries per page (issue 14): the pages members use most, each in a few round trips.

What every signed-in request costs: the host lookup (the network with its theme, run under
the search_path the connection already has: no `SET search_path` when it last served the
same network, hexitime.tenantdb), the session and the member, read with their unread
notifications and whether any permission was granted to them beyond their role
(core.members.backends; sessions stay in the database so that signing in works while
Redis is down, tests/faults). The budgets below add each page's own reads; a panel added
to a page must fit in its budget or raise it here, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from ledger.services import gift_grant
from tests.core.insights.conftest import complete, map_get

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client

    from core.exchanges.models import Exchange
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

# page -> the most queries it may make (the host and the member included)
BUDGET = {
    "/accounts/login/": 1,  # the host only
    "/api/v1/listings/?q=help": 6,  # + count, page of listings, their owners
    # + count, federation membership, page, owners, and the listings suggested from the
    # member's skills (their ranking, core.listings.skill_matches, is kept in the cache:
    # one query more every ten minutes)
    "/listings/?q=help": 8,
    "/insights/map/": 5,  # + the stored map, who may not be named
    "/api/v1/insights/map/": 5,
    # + the exchange, messages, proposals, thanks, the network's rules (safeguarding
    # contact), and whether either side blocked the other (the message form is refused)
    "/exchanges/{exchange}/": 9,
    # + the announcements not dismissed (one query with their announcement, #16), balance
    # with the statement, the unfinished exchanges with their meetings, group sessions, the
    # listings suggested from the member's skills (as on the search page), and the running
    # campaigns with their hours and whether the member joined (one query)
    "/": 9,
}


@pytest.fixture
def signed_in(
    client_a: NetworkClient, network_a: Network, make_member: Callable[..., Member]
) -> tuple[NetworkClient, Exchange]:
    giver, receiver = make_member(network_a), make_member(network_a, skills=["coaching"])
    with tenant_context(network_a):
        gift_grant(member=receiver)
        exchange = complete(giver, receiver)
    client_a.force_login(receiver)
    map_get(client_a, "/insights/map/")
    return client_a, exchange


def _queries(client: Client, path: str) -> list[str]:
    client.get(path)  # the connection now has this network's search_path
    with CaptureQueriesContext(django_connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("page", [page for page in BUDGET if page != "/accounts/login/"])
def test_member_pages_fit_their_query_budget(
    signed_in: tuple[NetworkClient, Exchange], page: str
) -> None:
    client, exchange = signed_in
    queries = _queries(client, page.format(exchange=exchange.pk))
    assert len(queries) <= BUDGET[page], "\n".join(queries)
    assert not [sql for sql in queries if sql.startswith("SET search_path")]


def test_sign_in_page_is_one_query(client_a: NetworkClient) -> None:
    queries = _queries(client_a, "/accounts/login/")
    assert len(queries) <= BUDGET["/accounts/login/"], "\n".join(queries)


def test_switching_network_sets_the_search_path_once(
    signed_in: tuple[NetworkClient, Exchange],
    client_b: NetworkClient,
    network_b: Network,
    make_member: Callable[..., Member],
) -> None:
    client_a, _ = signed_in
    client_b.force_login(make_member(network_b))
    _queries(client_a, "/")
    with CaptureQueriesContext(django_connection) as captured:
        assert client_b.get("/").status_code == 200
    sets = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SET search_path")]
    assert sets == [f'SET search_path = "{network_b.schema_name}","public"']


def test_a_member_of_b_is_not_signed_in_on_a_with_bs_session(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_b: Network,
    make_member: Callable[..., Member],
) -> None:
    """Sessions live in each network's schema, so B's session cookie means nothing on A's
    host."""
    client_b.force_login(make_member(network_b))
    assert client_b.get("/").status_code == 200
    client_a.cookies = client_b.cookies
    assert client_a.get("/ledger/statement/").status_code == 302  # to sign in

"""Queries per page (issue 14): the pages members use most, each in a few round trips.

What every signed-in request costs: the host lookup (the network with its theme, run under
the search_path the connection already has: no `SET search_path` when it last served the
same network, hexitime.tenantdb) and the member, read with their unread notifications and
whether any permission was granted to them beyond their role (core.members.backends). The
session is read from Redis (kernel.sessions: from the database every few minutes, and on
every page while Redis is down, test_sessions). The budgets below add each page's own
reads; a panel added to a page must fit in its budget or raise it here, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection as django_connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.exchanges.services import exchange_respond, safeguarding_contact_set
from core.members.models import Role
from ledger.services import gift_grant
from tests.core.campaigns.conftest import running
from tests.core.groupsessions.conftest import post
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
    # + the page of listings with their total and their owners' names, one statement
    # (core.listings.LISTINGS_SEARCHED)
    "/api/v1/listings/?q=help": 3,
    # + the page with its total and owners' names. The network's place in the federation
    # is kept in the cache (none here; in it, one query for its partners and one search in
    # each: test_partners)
    "/listings/?q=help": 3,
    # + the listings suggested from the member's skills, shown while browsing (their
    # ranking, core.listings.skill_matches, is kept in the cache: one query more every ten
    # minutes)
    "/listings/": 4,
    "/insights/map/": 4,  # + the stored map, who may not be named
    "/api/v1/insights/map/": 4,
    # + the exchange with whether either side blocked the other (the message form is
    # refused), and its messages, proposals and thanks (core.exchanges exchange_thread,
    # thanks read before completion too: test_an_exchange_being_arranged_reads_its_thread);
    # the network's rules (safeguarding contact) are kept in the cache
    "/exchanges/{exchange}/": 6,
    # + the announcements not dismissed (one query with their announcement, #16), balance
    # with the statement, the unfinished exchanges with their meetings, and the listings
    # suggested from the member's skills (as on the listings page). Group sessions and
    # campaigns cost nothing while the network has no session ahead and runs no campaign
    # today (kept in the cache), else one query each: test_home_with_sessions_and_campaigns
    "/": 6,
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


def test_home_with_sessions_and_campaigns(
    signed_in: tuple[NetworkClient, Exchange],
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
) -> None:
    """What the home keeps (the latest session start, today's running campaigns) is
    forgotten when a session is posted or a campaign started: both show on the next read,
    one query each. Network B's home, read after, shows neither and is read afresh."""
    client, exchange = signed_in
    member = exchange.receiver
    assert member is not None
    organiser = make_member(network_a, role=Role.ORGANISER)
    quiet = len(_queries(client, "/"))
    with tenant_context(network_a):
        post(member, title="Sepsis teaching for every profession")
        running(organiser, title="Green NHS month")
    page = client.get("/").content.decode()
    assert "Sepsis teaching for every profession" in page and "Green NHS month" in page
    assert len(_queries(client, "/")) == quiet + 2

    client_b.force_login(make_member(network_b))
    page_b = client_b.get("/").content.decode()
    assert "Sepsis teaching" not in page_b and "Green NHS month" not in page_b
    with tenant_context(network_b):
        running(make_member(network_b, role=Role.ORGANISER), title="Quality month in B")
    assert "Quality month in B" in client_b.get("/").content.decode()
    assert "Quality month in B" not in client.get("/").content.decode()


def test_a_changed_safeguarding_contact_shows_at_once_and_only_in_its_network(
    signed_in: tuple[NetworkClient, Exchange],
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
) -> None:
    client, exchange = signed_in
    page = f"/exchanges/{exchange.pk}/"
    assert "Sam Safeguarding" not in client.get(page).content.decode()  # now kept
    organiser = make_member(network_a, role=Role.ORGANISER)
    with tenant_context(network_a):
        safeguarding_contact_set(actor=organiser, name="Sam Safeguarding", email="sam@nhs.example")
    assert "Sam Safeguarding" in client.get(page).content.decode()

    giver, receiver = make_member(network_b), make_member(network_b)
    with tenant_context(network_b):
        gift_grant(member=receiver)
        exchange_b = complete(giver, receiver)
    client_b.force_login(receiver)
    assert "Sam Safeguarding" not in client_b.get(f"/exchanges/{exchange_b.pk}/").content.decode()


def test_an_exchange_being_arranged_reads_its_thread(
    signed_in: tuple[NetworkClient, Exchange], network_a: Network
) -> None:
    client, done = signed_in
    assert done.receiver is not None
    with tenant_context(network_a):
        arranging = exchange_respond(actor=done.receiver, listing=done.listing, message="Again?")
    for exchange in (arranging, done):
        queries = _queries(client, f"/exchanges/{exchange.pk}/")
        assert len(queries) == BUDGET["/exchanges/{exchange}/"], "\n".join(queries)
        for table in ("exchanges_message", "exchanges_proposal", "exchanges_thanks"):
            (_,) = [sql for sql in queries if f"FROM {table} " in sql]

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from django.contrib.auth.models import Permission
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from kernel.db import connection
from ledger.models import Transfer
from ledger.selectors import member_statement
from ledger.services import Leg, gift_grant, member_account, transfer_create
from tests.conftest import reads, streamed

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _exchange(
    payer: Member, payee: Member, minutes: int, key: str, memo: str = "Shadowing on ward 7"
) -> Transfer:
    return transfer_create(
        idempotency_key=key,
        kind=Transfer.Kind.EXCHANGE,
        memo=memo,
        legs=[Leg(member_account(payer), -minutes), Leg(member_account(payee), minutes)],
    )


def test_a_member_sees_their_own_statement_with_running_balance(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    ben = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=alice)
        gift_grant(member=ben)
        _exchange(alice, ben, 45, "e1", memo="=HYPERLINK(evil)")
    client_a.force_login(alice)
    page = client_a.get("/ledger/statement/")
    assert page.status_code == 200
    assert b"You have <strong>1 hour 15 minutes</strong> of credit." in page.content
    assert page.content.count(b"<tr>") == 3  # header + gift + exchange
    api = client_a.get("/api/v1/ledger/statement/").json()
    assert [(r["kind"], r["minutes"], r["balance_after"]) for r in api["results"]] == [
        ("exchange", -45, 75),
        ("gift", 120, 120),
    ]
    assert client_a.get("/api/v1/ledger/balance/").json() == {
        "minutes": 75,
        "text": "1 hour 15 minutes",
    }
    download = client_a.get("/ledger/statement.csv")
    rows = list(csv.reader(io.StringIO(streamed(download).decode())))
    assert rows[0][0] == "date"
    assert [row[2:] for row in rows[1:]] == [
        ["'=HYPERLINK(evil)", "-45", "75"],
        ["Welcome gift: two hours of credit", "120", "120"],
    ]


def test_a_statement_names_the_other_member_in_one_query(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a, full_name="Alice Ames")
    ben = make_member(network_a, full_name="Ben Bell")
    with tenant_context(network_a):
        gift_grant(member=alice)
        _exchange(alice, ben, 45, "e1")
        with CaptureQueriesContext(connection) as captured:
            exchange, gift = member_statement(member=alice)
        assert len(reads(captured)) == 1
        assert (exchange.description, exchange.minutes, exchange.balance_after) == (
            "Exchange with Ben Bell",
            -45,
            75,
        )
        assert (gift.counterparty, gift.balance_after) == ("", 120)
        (received,) = member_statement(member=ben)
        assert received.description == "Exchange with Alice Ames"
        assert member_statement(member=alice, before=exchange.sequence) == [gift]


def test_statement_pages_back_in_time(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    ben = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=alice)
        for n in range(7):
            _exchange(alice, ben, 15, f"e{n}")
    client_a.force_login(alice)
    first = client_a.get("/api/v1/ledger/statement/?limit=5").json()
    second = client_a.get(f"/api/v1/ledger/statement/?limit=5&before={first['next_before']}").json()
    assert len(first["results"]) == 5
    assert [r["kind"] for r in second["results"]] == ["exchange", "exchange", "gift"]
    assert second["next_before"] is None
    assert client_a.get("/api/v1/ledger/statement/?limit=0").status_code == 400


def test_nobody_sees_another_members_entries(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice = make_member(network_a)
    ben = make_member(network_a)
    carol_in_b = make_member(network_b)
    with tenant_context(network_a):
        gift_grant(member=alice)
    client_a.force_login(ben)
    assert client_a.get("/api/v1/ledger/statement/").json()["results"] == []
    assert client_a.get("/api/v1/ledger/balance/").json()["minutes"] == 0
    client_b.force_login(carol_in_b)
    assert client_b.get("/api/v1/ledger/statement/").json()["results"] == []
    assert b"No credits yet" in client_b.get("/ledger/statement/").content


def test_network_totals_are_for_organisers_only(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    member = make_member(network_a)
    organiser = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=member)
        organiser.user_permissions.add(Permission.objects.get(codename="view_network_totals"))
    client_a.force_login(member)
    assert client_a.get("/ledger/totals/").status_code == 403
    assert client_a.get("/api/v1/ledger/totals/").status_code == 403
    client_a.force_login(organiser)
    assert b"2 hours" in client_a.get("/ledger/totals/").content
    totals = client_a.get("/api/v1/ledger/totals/").json()
    assert (totals["issued"], totals["held_by_members"], totals["members_with_credit"]) == (
        120,
        120,
        1,
    )
    # An organiser's standing in A means nothing in B.
    client_b.force_login(make_member(network_b))
    assert client_b.get("/api/v1/ledger/totals/").status_code == 403


def test_signed_out_visitors_see_no_ledger(client_a: NetworkClient) -> None:
    assert client_a.get("/api/v1/ledger/balance/").status_code in {401, 403}
    assert client_a.get("/ledger/statement/").status_code == 302

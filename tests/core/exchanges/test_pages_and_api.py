"""The exchange pages and API, driven as a member would, including members of another
network failing to see or change anything."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest
import time_machine
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.exchanges import services as x
from core.exchanges.models import Exchange, Message, Proposal, State
from core.exchanges.selectors import THREAD_READS, Thread, exchange_thread
from kernel.db import connection
from ledger.services import member_account
from tests.conftest import streamed

from .conftest import soon, to_recorded, yesterday

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import DjangoAssertNumQueries

    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_a_member_walks_an_exchange_through_the_pages(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    client_a.force_login(bob)
    page = client_a.get(f"/listings/{offer.pk}/")
    assert b"Ask for this help" in page.content
    response = client_a.post(f"/exchanges/respond/{offer.pk}/", {"message": "Can we meet?"})
    with tenant_context(network_a):
        exchange = Exchange.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exchanges/{exchange.pk}/"

    client_a.force_login(alice)
    home = client_a.get("/")
    assert b"Reply to this response" in home.content
    assert client_a.post(f"/exchanges/{exchange.pk}/accept/").status_code == 302
    when = soon().strftime("%Y-%m-%dT%H:%M")
    client_a.post(f"/exchanges/{exchange.pk}/propose/", {"starts_at": when, "place": "Room 4"})

    client_a.force_login(bob)
    detail = client_a.get(f"/exchanges/{exchange.pk}/")
    assert b"Agree to this time" in detail.content
    with tenant_context(network_a):
        proposal = exchange.proposals.get()
    client_a.post(f"/exchanges/{exchange.pk}/agree/", {"proposal": proposal.pk})
    assert b"Your next meetings" in client_a.get("/").content

    client_a.force_login(alice)
    with time_machine.travel(soon(49)):  # after the meeting
        assert (
            client_a.post(f"/exchanges/{exchange.pk}/record/", {"minutes": "75"}).status_code == 302
        )
        client_a.force_login(bob)
        detail = client_a.get(f"/exchanges/{exchange.pk}/")
        assert b"Confirm the hours" in detail.content and b"1 hour 15 minutes" in detail.content
        client_a.post(f"/exchanges/{exchange.pk}/confirm/")
        client_a.post(f"/exchanges/{exchange.pk}/thanks/", {"text": "Really useful"})
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert exchange.state == State.COMPLETED
        assert member_account(bob).balance == 45
    assert b"Really useful" in client_a.get(f"/members/{alice.pk}/").content


def test_bad_input_and_illegal_moves_get_a_clear_page_not_a_500(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hi")
    client_a.force_login(bob)
    refused = client_a.post(f"/exchanges/{exchange.pk}/accept/")
    assert refused.status_code == 403
    assert b"There is a problem" in refused.content
    assert b"Only the person giving help can accept" in refused.content
    client_a.force_login(alice)
    client_a.post(f"/exchanges/{exchange.pk}/accept/")
    bad = client_a.post(f"/exchanges/{exchange.pk}/propose/", {"starts_at": "soonish"})
    assert bad.status_code == 400
    assert b"Enter a valid date/time" in bad.content
    assert client_a.post(f"/exchanges/{exchange.pk}/fly/").status_code == 404
    too_long = client_a.post(f"/exchanges/{exchange.pk}/record/", {"minutes": "7000"})
    assert too_long.status_code == 400


def test_a_receiver_short_of_credit_is_told_on_the_page(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob, minutes=180)
    client_a.force_login(bob)
    page = client_a.get(f"/exchanges/{exchange.pk}/")
    assert b"You have 2 hours of credit, which is less than 3 hours" in page.content
    assert b"offer some help" in page.content
    refused = client_a.post(f"/exchanges/{exchange.pk}/confirm/")
    assert refused.status_code == 409
    assert b"Offer some help to earn more" in refused.content


def test_confirming_hours_not_yet_recorded_is_refused_on_the_page(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    """The page answers as the API does (409 and why), not with a 500."""
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hi")
        x.exchange_accept(actor=alice, exchange=exchange)
    client_a.force_login(bob)
    refused = client_a.post(f"/exchanges/{exchange.pk}/confirm/")
    assert refused.status_code == 409
    assert b"There is a problem" in refused.content
    assert client_a.post(f"/api/v1/exchanges/{exchange.pk}/confirm/").status_code == 409
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert exchange.state == State.ACCEPTED and exchange.minutes is None


def test_each_form_on_an_exchange_page_labels_its_own_fields(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    """Declining and cancelling both ask for a reason; a shared id would give the second
    box no label at all (the browser gives the label to the first)."""
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hi")
    client_a.force_login(alice)
    page = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    assert {"id_decline_reason", "id_cancel_reason", "id_message_body"} <= set(ids)
    refused = client_a.post(f"/exchanges/{exchange.pk}/message/", {"body": ""})
    assert refused.status_code == 400
    assert 'href="#id_message_body"' in refused.content.decode()


def test_third_parties_and_other_networks_see_nothing(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob)
    for outsider in (eve, olive):  # an organiser too: the thread is private until disputed
        client_a.force_login(outsider)
        assert client_a.get(f"/exchanges/{exchange.pk}/").status_code == 404
        assert client_a.post(f"/exchanges/{exchange.pk}/message/", {"body": "x"}).status_code == 404
        assert client_a.get(f"/api/v1/exchanges/{exchange.pk}/").status_code == 404
    stranger = make_member(network_b)
    client_b.force_login(stranger)
    assert client_b.get(f"/exchanges/{exchange.pk}/").status_code == 404
    assert client_b.post(f"/exchanges/{exchange.pk}/confirm/").status_code == 404
    assert client_b.get(f"/api/v1/exchanges/{exchange.pk}/").status_code == 404
    assert client_b.get(f"/exchanges/partner/{network_a.slug}/{exchange.pk}/").status_code == 404
    with tenant_context(network_a):
        assert Exchange.objects.get().state == State.RECORDED


def test_the_api_runs_the_same_moves(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    alice, bob, _, _ = people
    client_a.force_login(bob)
    created = client_a.post(
        "/api/v1/exchanges/",
        {"listing": offer.pk, "message": "Hi"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    exchange_id = created.json()["id"]
    assert created.json()["your_side"] == "receiver"
    client_a.force_login(alice)
    assert client_a.post(f"/api/v1/exchanges/{exchange_id}/accept/").json()["state"] == "accepted"
    bad = client_a.post(
        f"/api/v1/exchanges/{exchange_id}/record/", {"minutes": 10}, content_type="application/json"
    )
    assert bad.status_code == 400 and "minutes" in bad.json()["errors"]
    recorded = client_a.post(
        f"/api/v1/exchanges/{exchange_id}/record/",
        {"minutes": 60, "met_on": yesterday().isoformat()},
        content_type="application/json",
    )
    assert recorded.json()["state"] == "recorded"
    wrong = client_a.post(f"/api/v1/exchanges/{exchange_id}/confirm/")
    assert wrong.status_code == 403 and "receiving help" in wrong.json()["detail"]
    client_a.force_login(bob)
    done = client_a.post(f"/api/v1/exchanges/{exchange_id}/confirm/").json()
    assert done["state"] == "completed" and done["minutes"] == 60
    with tenant_context(network_a):
        for n in range(5):
            x.exchange_respond(actor=bob, listing=_another_offer(alice, n), message="Hi")
    with django_assert_max_num_queries(8):
        listed = client_a.get("/api/v1/exchanges/")
    assert listed.json()["count"] == 6


def _another_offer(alice: Member, n: int) -> Listing:
    from core.listings.services import listing_create

    return listing_create(
        actor=alice, kind="offer", title=f"Offer {n}", description="Help", category="coaching"
    )


def test_organisers_see_disputes_and_export_every_exchange(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
    make_member: Callable[..., Member],
    network_b: Network,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        exchange = to_recorded(offer, alice, bob)
        x.exchange_dispute(actor=bob, exchange=exchange, reason="It was shorter")
    client_a.force_login(eve)
    assert client_a.get("/exchanges/organiser/").status_code == 403
    assert client_a.get("/exchanges/organiser/exchanges.csv").status_code == 403
    client_a.force_login(olive)
    overview = client_a.get("/exchanges/organiser/")
    assert b"Open disputes (1)" in overview.content and b"It was shorter" in overview.content
    assert client_a.get(f"/exchanges/{exchange.pk}/").status_code == 200  # disputed: visible
    empty = client_a.post(f"/exchanges/{exchange.pk}/settle/", {})
    assert empty.status_code == 400
    assert b"Choose an outcome: confirm, adjust or cancel." in empty.content
    assert b"Write a note for the record." in empty.content
    settle = {"outcome": "adjust", "minutes": "60", "note": "Agreed an hour"}
    settled = client_a.post(f"/exchanges/{exchange.pk}/settle/", settle)
    assert settled.status_code == 302
    with tenant_context(network_a):
        assert not AuditEvent.objects.filter(verb="exchanges.export").exists()  # eve's 404
    export = client_a.get("/exchanges/organiser/exchanges.csv")
    rows = list(csv.reader(io.StringIO(streamed(export).decode())))
    assert rows[0][:3] == ["id", "listing", "category"]
    with tenant_context(network_a):
        event = AuditEvent.objects.get(verb="exchanges.export")
    assert (event.actor_id, event.target_id) == (olive.pk, str(network_a.pk))
    assert [(r[1], r[4], r[5], r[6], r[7]) for r in rows[1:]] == [
        ("QI coaching", "Alice Giver", "Bob Receiver", "completed", "60")
    ]
    assert client_a.post("/exchanges/organiser/", {"auto_confirm_days": "0"}).status_code == 400
    other_organiser = make_member(network_b, role="organiser")
    client_b.force_login(other_organiser)
    other = client_b.get("/exchanges/organiser/exchanges.csv")
    assert b"QI coaching" not in streamed(other)
    # B's export is in B's audit log, not A's.
    with tenant_context(network_b):
        assert AuditEvent.objects.get(verb="exchanges.export").actor_id == other_organiser.pk
    with tenant_context(network_a):
        assert AuditEvent.objects.filter(verb="exchanges.export").count() == 1


@pytest.fixture
def shared_offer(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
) -> Listing:
    from core.listings.services import listing_create

    with tenant_context(network_a):
        return listing_create(
            actor=people[0],
            kind="offer",
            title="Theatre shadowing",
            description="A morning",
            category="shadowing",
            visibility="partners",
        )


def test_a_partner_member_uses_their_own_network_pages(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    partners: Member,
    shared_offer: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
    make_member: Callable[..., Member],
) -> None:
    alice, ben = people[0], partners
    client_b.force_login(ben)
    listing_page = client_b.get(f"/exchanges/partner/{network_a.slug}/listings/{shared_offer.pk}/")
    assert b"Alice Giver (Network A)" in listing_page.content
    response = client_b.post(
        f"/exchanges/partner/{network_a.slug}/listings/{shared_offer.pk}/respond/",
        {"message": "May I shadow you?"},
    )
    with tenant_context(network_a):
        exchange = Exchange.objects.get()
    assert response["Location"] == f"/exchanges/partner/{network_a.slug}/{exchange.pk}/"
    assert b"Theatre shadowing" in client_b.get("/exchanges/").content
    client_a.force_login(alice)
    assert b"Ben Partner (Network B)" in client_a.get(f"/exchanges/{exchange.pk}/").content
    client_a.post(f"/exchanges/{exchange.pk}/accept/")
    client_a.post(
        f"/exchanges/{exchange.pk}/record/", {"minutes": "60", "met_on": yesterday().isoformat()}
    )
    page = f"/exchanges/partner/{network_a.slug}/{exchange.pk}/"
    assert b"Confirm the hours" in client_b.get(page).content
    assert client_b.post(page + "confirm/").status_code == 302
    with tenant_context(network_b):
        assert member_account(ben).balance == 60
    with tenant_context(network_a):
        assert member_account(alice).balance == 180
    # Another member of B cannot open Ben's exchange through the partner pages.
    client_b.force_login(make_member(network_b))
    assert client_b.get(page).status_code == 404
    assert client_b.post(page + "message/", {"body": "Hi"}).status_code == 404


def test_the_api_schema_documents_what_each_move_takes(client_a: NetworkClient) -> None:
    """Each move is an operation of its own whose request body lists exactly the fields
    the move's form accepts (a client reading /api/docs/ sees them, not `{}`)."""
    from core.exchanges.actions import ACTIONS
    from kernel.forms import NoInput

    schema = client_a.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    spec = schema.json()
    components = spec["components"]["schemas"]
    for prefix in (
        "/api/v1/exchanges/{exchange_id}",
        "/api/v1/exchanges/partner/{slug}/{exchange_id}",
    ):
        for name, action in ACTIONS.items():
            operation = spec["paths"][f"{prefix}/{name}/"]["post"]
            fields = action.form.base_fields
            if action.form is NoInput:
                assert "requestBody" not in operation, name
                continue
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            declared = components[body["$ref"].rsplit("/", 1)[-1]]
            assert set(declared["properties"]) == set(fields), name
            required = {field for field, f in fields.items() if f.required}
            assert set(declared.get("required", [])) == required, name
            if "minutes" in fields:  # a number of minutes, with its bounds
                minutes = declared["properties"]["minutes"]
                assert (minutes["type"], minutes["minimum"], minutes["maximum"]) == (
                    "integer",
                    15,
                    720,
                ), name


def test_an_unknown_move_is_not_found(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hi")
    client_a.force_login(alice)
    assert client_a.post(f"/api/v1/exchanges/{exchange.pk}/explode/").status_code == 404


def test_a_move_no_longer_open_is_refused_on_the_page_without_its_form(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    """Found by the isolation walk: confirming a cancelled exchange (no hours recorded)
    rendered the confirm section for it and failed on its missing minutes."""
    bob = people[1]
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        x.exchange_cancel(actor=bob, exchange=exchange, reason="")
    client_a.force_login(bob)
    refused = client_a.post(f"/exchanges/{exchange.pk}/confirm/")
    assert refused.status_code == 409
    assert b"You cannot confirm the hours now: this exchange is cancelled." in refused.content
    assert b"Confirm the hours</h2>" not in refused.content


def test_the_time_given_is_one_number_of_minutes_in_quarter_hour_steps(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
    make_member: Callable[..., Member],
) -> None:
    alice, bob, _, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        x.exchange_accept(actor=alice, exchange=exchange)
    client_a.force_login(alice)
    page = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
    field = re.search(r'<input type="number" name="minutes"[^>]*>', page)
    assert field is not None, "a number box, not a list of every quarter hour"
    for attribute in ('value="60"', 'min="15"', 'max="720"', 'step="15"', 'id="id_record_minutes"'):
        assert attribute in field[0]
    assert "<option" not in page.split('id="record-heading"')[1].split("</section>")[0]
    off_step = client_a.post(
        f"/exchanges/{exchange.pk}/record/", {"minutes": "100", "met_on": yesterday().isoformat()}
    )
    assert off_step.status_code == 400
    assert "Enter minutes in steps of 15, up to 720 (12 hours)" in off_step.content.decode()
    # Another network's member cannot record time on it.
    client_b.force_login(make_member(network_b))
    assert client_b.post(f"/exchanges/{exchange.pk}/record/", {"minutes": "60"}).status_code == 404
    assert (
        client_a.post(
            f"/exchanges/{exchange.pk}/record/",
            {"minutes": "90", "met_on": yesterday().isoformat()},
        ).status_code
        == 302
    )
    with tenant_context(network_a):
        exchange.refresh_from_db()
        assert exchange.minutes == 90


def test_an_exchange_is_read_with_only_what_is_shown_of_its_listing_and_sides(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
    make_member: Callable[..., Member],
    network_b: Network,
) -> None:
    """`Exchange.objects.shown()`: no password hash, biography or search vector leaves the
    database for a page of exchanges, and what was left out is still read when asked for."""
    alice, bob = people[0], people[1]
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        with CaptureQueriesContext(connection) as captured:
            shown = Exchange.objects.shown().get(pk=exchange.pk)
            assert (shown.giver_name, shown.receiver_name) == ("Alice Giver", "Bob Receiver")
            assert shown.listing.title == "QI coaching"
        (read,) = [q["sql"] for q in captured.captured_queries]
        for column in ('"password"', '"bio"', '"search_vector"', '"description"'):
            assert column not in read
        assert shown.listing.description == "PDSA cycles"  # read on first use
        assert shown.giver is not None and shown.giver.email == alice.email

    client_a.force_login(bob)
    page = client_a.get(f"/exchanges/{exchange.pk}/")
    assert page.status_code == 200 and "Alice Giver" in page.content.decode()
    client_b.force_login(make_member(network_b))  # another network: nothing there
    assert client_b.get(f"/exchanges/{exchange.pk}/").status_code == 404


def test_an_exchanges_thread_is_read_whole_and_in_order(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
    client_b: NetworkClient,
    make_member: Callable[..., Member],
    network_b: Network,
) -> None:
    """`exchange_thread`: its messages and proposals oldest first and its thanks newest
    first, each read whole in its model's column order, a statement each; the page shows
    them. B's member reads nothing of it."""
    for model, select in THREAD_READS.items():  # each SELECT names its model's columns
        columns = select.split("SELECT", 1)[1].split(" FROM ", 1)[0]
        assert [c.strip() for c in columns.split(",")] == [
            f.column for f in model._meta.concrete_fields
        ]
        assert f"FROM {model._meta.db_table} " in select
    alice, bob = people[0], people[1]
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Could you help?")
        x.exchange_accept(actor=alice, exchange=exchange)
        x.exchange_propose(actor=alice, exchange=exchange, starts_at=soon(), place="Room 4")
        x.exchange_propose(actor=bob, exchange=exchange, starts_at=soon(72), place="Library")
        x.message_post(actor=alice, exchange=exchange, body="The library suits me.")
        x.exchange_record_hours(actor=alice, exchange=exchange, minutes=60, met_on=yesterday())
        x.exchange_confirm(actor=bob, exchange=exchange)
        x.thanks_give(actor=bob, exchange=exchange, text="Thank you, Alice")
        x.thanks_give(actor=alice, exchange=exchange, text="Glad to help")
        with CaptureQueriesContext(connection) as captured:
            thread = exchange_thread(exchange)
        assert len(captured.captured_queries) == 3
        assert [m.body for m in thread.messages] == list(
            Message.objects.filter(exchange=exchange).values_list("body", flat=True)
        )
        assert thread.messages[-1].body == "The library suits me."
        assert [(p.place, p.status, p.proposed_by, p.starts_at) for p in thread.proposals] == [
            (p.place, p.status, p.proposed_by, p.starts_at)
            for p in Proposal.objects.filter(exchange=exchange)
        ]
        assert [p.place for p in thread.proposals] == ["Room 4", "Library"]
        assert [(t.text, t.side, t.recipient_id) for t in thread.thanks] == [
            ("Glad to help", "giver", bob.pk),
            ("Thank you, Alice", "receiver", alice.pk),
        ]

    client_a.force_login(bob)
    page = client_a.get(f"/exchanges/{exchange.pk}/").content.decode()
    assert "The library suits me." in page and "Glad to help" in page
    assert "Say thank you" not in page  # Bob has thanked already
    client_b.force_login(make_member(network_b))
    assert client_b.get(f"/exchanges/{exchange.pk}/").status_code == 404
    with tenant_context(network_b):
        assert exchange_thread(exchange) == Thread(messages=[], proposals=[], thanks=[])

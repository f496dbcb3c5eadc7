"""Members' data rights: downloading everything the network holds about oneself, and
closing one's account (erasure, with the ledger kept balanced), and the retention purge."""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from core.audit.models import AuditEvent
from core.audit.services import audit_record
from core.exchanges import services as x
from core.exchanges.models import Exchange, Message, State
from core.groupsessions.services import booking_create, session_create
from core.insights.models import EqualityAnswers
from core.insights.services.equality import equality_answers_save
from core.listings.models import Listing
from core.listings.services import listing_create
from core.members.models import FORMER_MEMBER_NAME, Member, MemberState, Role
from core.members.services import (
    UNVERIFIED_GRACE_DAYS,
    member_profile_update,
    member_set_role,
)
from core.members.tasks import members_purge_unverified
from core.notifications.models import Kind, Notification
from core.notifications.services import notification_send
from core.privacy.services import ClosureRefused, member_close
from core.projects.services import (
    ProjectRefused,
    project_fund,
    project_propose,
    volunteer_confirm_hours,
    volunteer_pledge,
)
from kernel.db import actor_label_erasure
from ledger.models import Account, Transfer
from ledger.selectors import member_balance, member_statement
from ledger.services import gift_grant
from tests.conftest import NetworkClient

if TYPE_CHECKING:
    from pytest_django import DjangoCaptureOnCommitCallbacks

    from tenants.models import Network

PASSWORD = "correct-horse-battery"
ANSWERS = {
    "ethnic_group": "white_roma",
    "gender": "non_binary",
    "age_band": "35_44",
    "disability": "yes",
    "background": "routine",
}


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def _yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def _soon() -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=2)


def _completed(listing: Listing, giver: Member, receiver: Member, *, minutes: int) -> Exchange:
    """An exchange on `listing` (the giver's offer) walked to completion, with a message."""
    exchange = x.exchange_respond(actor=receiver, listing=listing, message="Could you help?")
    x.exchange_accept(actor=giver, exchange=exchange)
    proposal = x.exchange_propose(
        actor=receiver, exchange=exchange, starts_at=_soon(), place="Library, room 2"
    )
    x.exchange_agree(actor=giver, exchange=exchange, proposal_id=proposal.pk)
    with time_machine.travel(proposal.starts_at + datetime.timedelta(hours=2)):  # they met
        x.exchange_record_hours(actor=giver, exchange=exchange, minutes=minutes)
        return x.exchange_confirm(actor=receiver, exchange=exchange)


def _offer(owner: Member, title: str) -> Listing:
    return listing_create(
        actor=owner, kind="offer", title=title, description="PDSA cycles", category="coaching"
    )


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> tuple[Member, Member, Member]:
    """Priya (whose data it is), Alex who exchanges with her, Olive the organiser; all
    with their welcome gift."""
    priya = make_member(network_a, full_name="Priya Patel", email="priya@trust.nhs.uk")
    alex = make_member(network_a, full_name="Alex Other")
    olive = make_member(network_a, full_name="Olive Organiser", role=Role.ORGANISER)
    with tenant_context(network_a):
        for member in (priya, alex, olive):
            gift_grant(member=member)
    return priya, alex, olive


def _zip(content: bytes) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    data = json.loads(archive.read("data.json"))
    tables = {
        name.removesuffix(".csv"): list(csv.DictReader(io.StringIO(archive.read(name).decode())))
        for name in archive.namelist()
        if name.endswith(".csv")
    }
    return data, tables


def test_the_download_contains_each_kind_of_data(
    network_a: Network, people: tuple[Member, Member, Member], client_a: NetworkClient
) -> None:
    priya, alex, olive = people
    with tenant_context(network_a):
        priya = member_profile_update(
            actor=priya,
            bio="Ward sister, ICU",
            skills=["teaching"],
            location="Oxford",
            photo=_photo(),
        )
        own = _offer(priya, "Teaching sepsis screening")
        listing_create(
            actor=alex,
            kind="offer",
            title="Alex's own offer",
            description="QI",
            category="coaching",
        )
        exchange = _completed(own, priya, alex, minutes=60)
        x.message_post(actor=alex, exchange=exchange, body="Thank you, that was clear")
        member_set_role(actor=olive, member=priya, role=Role.QI_LEAD)
        lead = Member.objects.get(pk=priya.pk)
        today = timezone.localdate()
        project = project_propose(
            actor=lead,
            title="Fewer falls",
            aim="Reduce falls by 30%",
            description="PDSA",
            budget_minutes=600,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
        )
        project_fund(actor=olive, project=project)
        volunteer_pledge(actor=alex, project=project, pledged_minutes=60)
        equality_answers_save(actor=lead, consent=True, **ANSWERS)
    client_a.force_login(priya)

    response = client_a.get("/account/data/")

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    data, tables = _zip(response.content)
    profile = data["profile"][0]
    assert (profile["email"], profile["full_name"], profile["bio"]) == (
        "priya@trust.nhs.uk",
        "Priya Patel",
        "Ward sister, ICU",
    )
    assert profile["skills"] == ["teaching"] and profile["photo"].startswith("profiles/")
    assert tables["profile"][0]["skills"] == "teaching"
    assert [row["title"] for row in data["listings"]] == ["Teaching sepsis screening"]
    assert tables["listings"][0]["title"] == "Teaching sepsis screening"
    assert [
        (e["listing_title"], e["other_member"], e["state"], e["minutes"]) for e in data["exchanges"]
    ] == [("Teaching sepsis screening", "Alex Other", "Completed", 60)]
    bodies = [m["body"] for m in data["exchange_messages"]]
    assert "Could you help?" in bodies and "Thank you, that was clear" in bodies
    assert data["exchange_proposals"][0]["place"] == "Library, room 2"
    statement = [(line["type"], line["with"], line["minutes"]) for line in data["statement"]]
    assert statement == [("Exchange", "Alex Other", 60), ("Welcome gift", "", 120)]
    assert tables["statement"][0]["with"] == "Alex Other"
    assert [p["title"] for p in data["projects_led"]] == ["Fewer falls"]
    assert tables["projects_led"][0]["state"] == "approved"
    assert any("confirmed" in n["title"] for n in data["notifications"])
    assert any(n["kind"] == "project_volunteer" for n in data["notifications"])
    assert data["equality_answers"][0]["gender"] == "Non-binary"
    assert tables["equality_answers"][0]["age_band"] == "35 to 44"
    verbs = [event["verb"] for event in data["audit_events"]]
    assert verbs == ["member.role_change"]
    assert json.loads(tables["audit_events"][0]["after"]) == {"role": "qi_lead"}
    # Nothing of anyone else's own: Alex's listing, profile and equality data stay out.
    everything = json.dumps(data)
    assert "Alex's own offer" not in everything
    assert "Ward sister" in everything and data["volunteering"] == []
    with tenant_context(network_a):
        export = AuditEvent.objects.get(verb="member.data_export")
        assert export.target_id == str(priya.pk)
        assert "priya" not in json.dumps([export.before, export.after, export.reason]).lower()


def test_a_member_of_another_network_can_neither_download_nor_close(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member],
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    priya = people[0]
    with tenant_context(network_a):
        _offer(priya, "Priya's secret listing")
    bella = make_member(network_b, full_name="Bella in B", password=PASSWORD)
    client_b.force_login(bella)
    # Bella's session belongs to network B: on A's host she is nobody.
    on_a = NetworkClient(network_a)
    on_a.cookies = copy.deepcopy(client_b.cookies)
    assert on_a.get("/account/data/").status_code == 302
    assert on_a.get("/api/v1/account/data/").status_code == 401
    assert on_a.post("/api/v1/account/close/", {"password": PASSWORD}).status_code == 401
    # Her own download holds her data only.
    data, _ = _zip(client_b.get("/account/data/").content)
    assert data["profile"][0]["full_name"] == "Bella in B"
    assert "Priya" not in json.dumps(data)
    with tenant_context(network_a):
        priya.refresh_from_db()
        assert priya.state == MemberState.ACTIVE


@pytest.mark.django_db(transaction=True)
def test_closing_ends_exchanges_erases_and_keeps_the_ledger_balanced(
    network_a: Network,
    people: tuple[Member, Member, Member],
    client_a: NetworkClient,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    priya, alex, _ = people
    with tenant_context(network_a):
        priya = member_profile_update(actor=priya, bio="Ward sister", photo=_photo())
        photo = priya.photo
        equality_answers_save(actor=priya, consent=True, **ANSWERS)
        alex_offer = _offer(alex, "Alex teaches run charts")
        _completed(alex_offer, alex, priya, minutes=30)  # Priya pays Alex 30 minutes
        open_exchange = x.exchange_respond(
            actor=alex,
            listing=_offer(priya, "Priya mentors"),
            message="Hello Priya, I am free Tuesdays",
        )
        x.exchange_accept(actor=priya, exchange=open_exchange)
        x.message_post(actor=priya, exchange=open_exchange, body="Tuesday works")
        issuance_before = Account.objects.get(kind="issuance").balance
    client_a.force_login(priya)
    assert client_a.get("/account/data/").status_code == 200  # audited with her as actor

    page = client_a.get("/account/close/").content.decode()
    assert "Your listings are withdrawn" in page and "1 hour 30 minutes" in page
    wrong = client_a.post("/account/close/", {"password": "not-it"})
    assert "That is not your password" in wrong.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        closed = client_a.post("/account/close/", {"password": PASSWORD})

    assert closed.status_code == 302
    with tenant_context(network_a):
        priya.refresh_from_db()
        assert (priya.state, priya.full_name, priya.bio, priya.is_active) == (
            MemberState.CLOSED,
            FORMER_MEMBER_NAME,
            "",
            False,
        )
        assert "priya" not in priya.email and not priya.has_usable_password()
        assert not photo.storage.exists(photo.name or "")
        assert not EqualityAnswers.objects.filter(member_id=priya.pk).exists()
        assert not Notification.objects.filter(recipient=priya).exists()
        assert Exchange.objects.get(pk=open_exchange.pk).state == State.CANCELLED
        assert set(Listing.objects.filter(owner=priya).values_list("status", flat=True)) == {
            "closed"
        }
        told = Notification.objects.get(recipient=alex, key__endswith=":member_closed:receiver")
        assert "closed their account" in told.title
        assert set(
            Message.objects.filter(side="giver", exchange=open_exchange).values_list(
                "author_name", flat=True
            )
        ) == {FORMER_MEMBER_NAME}
        # The credit went back to the network; the account and its history stay.
        assert member_balance(member=priya) == 0
        assert Account.objects.get(kind="issuance").balance == issuance_before + 90
        assert member_statement(member=alex)[0].counterparty == FORMER_MEMBER_NAME
        # The transfer she confirmed and the export she made name her no more.
        assert set(
            Transfer.objects.filter(actor_id=priya.pk).values_list("actor_label", flat=True)
        ) == {FORMER_MEMBER_NAME}
        assert set(
            AuditEvent.objects.filter(actor_id=priya.pk).values_list("actor_label", flat=True)
        ) == {FORMER_MEMBER_NAME}
    call_command("ledger_audit", "--network", "network-a")
    # Alex's statement page names Priya as a former member.
    client_a.force_login(alex)
    assert (
        f"Exchange with {FORMER_MEMBER_NAME}" in client_a.get("/ledger/statement/").content.decode()
    )
    # Priya cannot sign in again, by page or by API.
    assert not client_a.login(username="priya@trust.nhs.uk", password=PASSWORD)
    assert (
        client_a.post(
            "/accounts/login/", {"username": "priya@trust.nhs.uk", "password": PASSWORD}
        ).status_code
        == 200
    )


def test_the_audit_row_for_the_erasure_has_no_personal_data(
    network_a: Network,
    people: tuple[Member, Member, Member],
    client_a: NetworkClient,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    priya = people[0]
    with tenant_context(network_a):
        member_close(actor=priya, password=PASSWORD)
        event = AuditEvent.objects.get(verb="member.close")
    assert event.target_id == str(priya.pk) and event.actor_label == FORMER_MEMBER_NAME
    assert event.after == {
        "state": "closed",
        "exchanges_cancelled": 0,
        "sessions_cancelled": 0,
        "listings_withdrawn": 0,
        "minutes_returned": 120,
    }
    row = json.dumps([event.actor_label, event.before, event.after, event.reason]).lower()
    assert "priya" not in row and "patel" not in row and "nhs.uk" not in row
    # Nothing is emailed to the erased address afterwards.
    with tenant_context(network_a), django_capture_on_commit_callbacks() as queued:
        notification_send(
            recipient=Member.objects.get(pk=priya.pk),
            kind=Kind.ACCOUNT,
            key="after-closure",
            title="Anything",
        )
    assert queued == []
    # Organisers see it in the audit log; members do not.
    client_a.force_login(people[2])
    log = client_a.get("/audit/").content.decode()
    assert "member.close" in log and "Priya" not in log
    client_a.force_login(people[1])
    assert client_a.get("/audit/").status_code == 403


def test_only_an_actor_label_can_change_and_only_while_erasing(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    priya = people[0]
    with tenant_context(network_a):
        event = audit_record(actor=priya, verb="member.data_export", target=priya)
        transfer = Transfer.objects.get(idempotency_key=f"gift:{priya.pk}")
        rows = (AuditEvent.objects.filter(pk=event.pk), Transfer.objects.filter(pk=transfer.pk))
        forgeries = [
            lambda: rows[0].update(actor_label="x"),  # no flag
            lambda: rows[1].update(actor_label="x"),
        ]
        for forge in forgeries:
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                forge()
        while_erasing: list[Callable[[], object]] = [
            lambda: rows[0].update(actor_label="x", verb="forged"),
            lambda: rows[1].update(actor_label="x", memo="forged"),
            lambda: rows[0].delete(),
        ]
        for change in while_erasing:
            with (
                pytest.raises(DatabaseError, match="append-only"),
                transaction.atomic(),
                actor_label_erasure(),
            ):
                change()
        with transaction.atomic(), actor_label_erasure():
            assert rows[0].update(actor_label=FORMER_MEMBER_NAME) == 1
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            rows[0].update(actor_label="again")  # the flag ended with the block
        assert rows[0].get().verb == "member.data_export"
        assert rows[1].get().memo == transfer.memo


def test_closing_is_refused_and_changes_nothing(
    network_a: Network, people: tuple[Member, Member, Member], make_member: Callable[..., Member]
) -> None:
    priya, alex, olive = people
    with tenant_context(network_a):
        with pytest.raises(ClosureRefused, match="not your password") as refused:
            member_close(actor=priya, password="wrong")
        assert refused.value.field == "password"
        with pytest.raises(ClosureRefused, match="only organiser"):
            member_close(actor=olive, password=PASSWORD)
        exchange = x.exchange_respond(
            actor=priya, listing=_offer(alex, "Alex coaches"), message="Please"
        )
        x.exchange_accept(actor=alex, exchange=exchange)
        x.exchange_record_hours(actor=alex, exchange=exchange, minutes=30, met_on=_yesterday())
        x.exchange_dispute(actor=priya, exchange=exchange, reason="It was 15 minutes")
        with pytest.raises(x.ExchangeRefused, match="settling a dispute"):
            member_close(actor=priya, password=PASSWORD)
        priya.refresh_from_db()
        assert priya.state == MemberState.ACTIVE and priya.full_name == "Priya Patel"
        assert member_balance(member=priya) == 120


def test_hours_the_leaver_still_had_to_confirm_are_paid(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    priya, alex, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(
            actor=priya, listing=_offer(alex, "Alex coaches"), message="Please"
        )
        x.exchange_accept(actor=alex, exchange=exchange)
        x.exchange_record_hours(actor=alex, exchange=exchange, minutes=45, met_on=_yesterday())
        member_close(actor=priya, password=PASSWORD)
        assert Exchange.objects.get(pk=exchange.pk).state == State.COMPLETED
        assert member_balance(member=alex) == 120 + 45


def test_a_closed_volunteers_hours_are_no_longer_paid(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    priya, alex, olive = people
    with tenant_context(network_a):
        member_set_role(actor=olive, member=alex, role=Role.QI_LEAD)
        lead = Member.objects.get(pk=alex.pk)
        today = timezone.localdate()
        project = project_propose(
            actor=lead,
            title="Fewer falls",
            aim="Reduce falls by 30%",
            description="PDSA",
            budget_minutes=600,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
        )
        project_fund(actor=olive, project=project)
        volunteer = volunteer_pledge(actor=priya, project=project, pledged_minutes=60)
        member_close(actor=priya, password=PASSWORD)
        with pytest.raises(ProjectRefused, match="closed their account"):
            volunteer_confirm_hours(
                actor=lead,
                project=project,
                volunteer=volunteer,
                minutes=60,
                worked_on=today,
                key="k1",
            )
        assert member_balance(member=priya) == 0


def test_the_api_downloads_and_closes(
    network_a: Network, people: tuple[Member, Member, Member], client_a: NetworkClient
) -> None:
    priya = people[0]
    client_a.force_login(priya)
    data, _ = _zip(client_a.get("/api/v1/account/data/").content)
    assert data["profile"][0]["email"] == "priya@trust.nhs.uk"
    refused = client_a.post("/api/v1/account/close/", {"password": "nope"})
    assert refused.status_code == 400 and refused.json()["field"] == "password"
    closed = client_a.post("/api/v1/account/close/", {"password": PASSWORD})
    assert closed.status_code == 200 and closed.json() == {"state": "closed"}
    assert client_a.get("/api/v1/account/data/").status_code == 401  # signed out for good


def test_the_privacy_page_is_linked_from_the_footer(
    network_a: Network, client_a: NetworkClient
) -> None:
    home = client_a.get("/").content.decode()
    assert 'href="/privacy/"' in home
    page = client_a.get("/privacy/").content.decode()
    assert "What we keep while you are a member" in page
    assert f"within {UNVERIFIED_GRACE_DAYS} days" in page


@pytest.mark.django_db(transaction=True)
def test_the_purge_deletes_only_unverified_sign_ups_older_than_the_grace_period(
    network_a: Network, network_b: Network, make_member: Callable[..., Member], worker: None
) -> None:
    old = timezone.now() - datetime.timedelta(days=UNVERIFIED_GRACE_DAYS, hours=1)
    recent = timezone.now() - datetime.timedelta(days=UNVERIFIED_GRACE_DAYS - 1)
    states = {
        "stale": (MemberState.UNVERIFIED, old),
        "fresh": (MemberState.UNVERIFIED, recent),
        "active": (MemberState.ACTIVE, old),
        "waiting": (MemberState.AWAITING_APPROVAL, old),
    }
    made = {
        name: make_member(network_a, full_name=name, state=state, date_joined=joined)
        for name, (state, joined) in states.items()
    }
    elsewhere = make_member(
        network_b, full_name="stale in B", state=MemberState.UNVERIFIED, date_joined=old
    )
    with tenant_context(network_a):
        assert members_purge_unverified.apply_async(ignore_result=False).get(timeout=30) == 1
        left = set(Member.objects.values_list("full_name", flat=True))
        purge = AuditEvent.objects.get(verb="member.purge_unverified")
    assert left == {"fresh", "active", "waiting"}
    assert purge.target_id == str(made["stale"].pk) and purge.actor_label == "system"
    with tenant_context(network_b):
        assert Member.objects.filter(pk=elsewhere.pk).exists()


def test_the_download_has_the_group_sessions_given_and_booked(
    network_a: Network, people: tuple[Member, Member, Member], client_a: NetworkClient
) -> None:
    priya, alex, _ = people
    with tenant_context(network_a):
        given = session_create(
            actor=priya,
            title="Sepsis teaching",
            category="teaching",
            format="online",
            starts_at=_soon(),
            minutes=60,
            capacity=5,
            video_link="https://meet.example.org/sepsis",
        )
        booking_create(actor=alex, session=given)
        theirs = session_create(
            actor=alex,
            title="Falls huddle",
            category="teaching",
            format="in_person",
            starts_at=_soon(),
            minutes=30,
            capacity=5,
            place="Ward 7",
        )
        booking_create(actor=priya, session=theirs)
    client_a.force_login(priya)

    data, tables = _zip(client_a.get("/account/data/").content)

    assert [s["title"] for s in data["group_sessions_given"]] == ["Sepsis teaching"]
    assert [(b["session__title"], b["state"]) for b in data["group_session_bookings"]] == [
        ("Falls huddle", "booked")
    ]
    assert tables["group_session_bookings"][0]["session__title"] == "Falls huddle"
    assert "gifts" in tables  # every section has its CSV


def test_a_meeting_arranged_with_the_leaver_leaves_the_other_sides_calendar(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    priya, alex, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(
            actor=alex, listing=_offer(priya, "Priya mentors"), message="Could we meet?"
        )
        x.exchange_accept(actor=priya, exchange=exchange)
        proposal = x.exchange_propose(
            actor=alex, exchange=exchange, starts_at=_soon(), place="Library"
        )
        x.exchange_agree(actor=priya, exchange=exchange, proposal_id=proposal.pk)
        member_close(actor=priya, password=PASSWORD)

        told = Notification.objects.get(recipient=alex, key__endswith=":member_closed:receiver")
        assert "METHOD:CANCEL" in told.calendar
        assert "SEQUENCE:1" in told.calendar.replace("\r\n ", "")

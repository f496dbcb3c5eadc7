"""Reports and the organisers' queue: services, pages, API, permissions, audit, and a
member of another network failing to see or change any of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.exchanges import services as x
from core.exchanges.models import Message
from core.listings.models import Listing
from core.members.models import MemberState
from core.notifications.models import Kind, Notification
from core.safety import services as safety
from core.safety.models import Report, Status
from kernel.db import connection
from kernel.errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

JSON = "application/json"


def test_a_report_is_received_folded_and_acted_on_for_every_reporter(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        first = safety.report_create(
            actor=bob,
            target_kind="listing",
            target_id=offer.pk,
            category="spam",
            details="Selling courses",
        )
        again = safety.report_create(
            actor=bob, target_kind="listing", target_id=offer.pk, category="other"
        )
        assert again.pk == first.pk and Report.objects.count() == 1  # folded
        assert Notification.objects.filter(recipient=bob, kind=Kind.REPORT).count() == 1
        filed = Notification.objects.get(recipient=olive, kind=Kind.REPORT_FILED)
        assert filed.url == f"/safety/reports/{first.pk}/" and filed.email_pending
        assert not Notification.objects.filter(recipient=alice, kind=Kind.REPORT_FILED).exists()
        second = safety.report_create(
            actor=eve, target_kind="listing", target_id=offer.pk, category="inappropriate"
        )
        with pytest.raises(PermissionDenied):
            safety.report_act(actor=eve, report=first, outcome="dismiss", note="mine")
        with pytest.raises(safety.ReportRefused):
            safety.report_act(actor=olive, report=first, outcome="hide_message", note="no")
        safety.report_act(
            actor=olive, report=first, outcome="hide_listing", note="Selling is not allowed"
        )
        assert Listing.objects.get(pk=offer.pk).hidden_reason == "Selling is not allowed"
        for report in (first, second):
            report.refresh_from_db()
            assert (report.status, report.outcome, report.handled_by) == (
                Status.ACTIONED,
                "hide_listing",
                olive,
            )
        audited = AuditEvent.objects.filter(verb="report.hide_listing").order_by("target_id")
        assert [(e.target_id, e.before, e.after) for e in audited] == [
            (str(r.pk), {"status": "open"}, {"status": "actioned", "outcome": "hide_listing"})
            for r in (first, second)
        ]
        assert AuditEvent.objects.filter(verb="listing.hide", actor_id=olive.pk).exists()
        for reporter in (bob, eve):
            assert (
                Notification.objects.filter(recipient=reporter, key__endswith=":handled").count()
                == 1
            )
        with pytest.raises(safety.ReportRefused, match="dealt with already"):
            safety.report_act(actor=olive, report=second, outcome="dismiss", note="again")
        # Now hidden, the listing is no longer anything Eve can report.
        with pytest.raises(NotFound):
            safety.report_create(
                actor=eve, target_kind="listing", target_id=offer.pk, category="spam"
            )


def test_reporting_refuses_bad_input_own_things_and_a_flood(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        with pytest.raises(safety.ReportRefused, match="reason"):
            safety.report_create(
                actor=bob, target_kind="listing", target_id=offer.pk, category="boredom"
            )
        with pytest.raises(safety.ReportRefused, match="yourself"):
            safety.report_create(
                actor=alice, target_kind="listing", target_id=offer.pk, category="spam"
            )
        with pytest.raises(NotFound):
            safety.report_create(actor=bob, target_kind="planet", target_id=1, category="spam")
        monkeypatch.setattr(safety, "OPEN_REPORTS_MAX", 2)
        for member in (alice, olive):
            safety.report_create(
                actor=bob, target_kind="profile", target_id=member.pk, category="harassment"
            )
        with pytest.raises(safety.ReportRefused, match="waiting for the organisers"):
            safety.report_create(
                actor=bob, target_kind="profile", target_id=eve.pk, category="harassment"
            )
        assert Report.objects.filter(reporter=bob).count() == 2


def test_organisers_hide_messages_warn_and_suspend_through_the_api(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    alice, bob, olive, eve = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hello")
        rude = x.message_post(actor=alice, exchange=exchange, body="Something unkind")
    client_a.force_login(bob)
    filed = client_a.post(
        "/api/v1/safety/reports/",
        {"target_kind": "message", "target_id": rude.pk, "category": "harassment"},
        content_type=JSON,
    )
    assert filed.status_code == 201, filed.content
    assert filed.json()["actions"] == []  # a reporter is offered nothing to do
    profile = client_a.post(
        "/api/v1/safety/reports/",
        {"target_kind": "profile", "target_id": alice.pk, "category": "safety"},
        content_type=JSON,
    )
    assert (
        client_a.post(
            f"/api/v1/safety/reports/{filed.json()['id']}/act/",
            {"outcome": "dismiss", "note": "x"},
            content_type=JSON,
        ).status_code
        == 403
    )

    client_a.force_login(olive)
    queue = client_a.get("/api/v1/safety/reports/").json()["results"]
    assert [r["target_kind"] for r in queue] == ["message", "profile"]
    assert queue[0]["actions"] == ["hide_message", "warn", "suspend", "dismiss"]
    hidden = client_a.post(
        f"/api/v1/safety/reports/{filed.json()['id']}/act/",
        {"outcome": "hide_message", "note": "Unkind"},
        content_type=JSON,
    )
    assert hidden.status_code == 200 and hidden.json()["status"] == "actioned"
    client_a.force_login(bob)
    thread = client_a.get(f"/api/v1/exchanges/{exchange.pk}/").json()["messages"]
    assert [(m["body"], m["hidden"]) for m in thread] == [("Hello", False), ("", True)]
    page = client_a.get(f"/exchanges/{exchange.pk}/")
    assert b"An organiser hid this message." in page.content
    assert b"Something unkind" not in page.content

    client_a.force_login(olive)
    bad = client_a.post(
        f"/api/v1/safety/reports/{profile.json()['id']}/act/",
        {"outcome": "warn", "note": ""},
        content_type=JSON,
    )
    assert bad.status_code == 400 and bad.json()["field"] == "note"
    warned = client_a.post(
        f"/api/v1/safety/reports/{profile.json()['id']}/act/",
        {"outcome": "warn", "note": "Please be kind"},
        content_type=JSON,
    )
    assert warned.status_code == 200
    with tenant_context(network_a):
        warning = Notification.objects.get(recipient=alice, kind=Kind.WARNING)
        assert warning.body == "Please be kind"
        assert AuditEvent.objects.filter(verb="member.warn", target_id=str(alice.pk)).exists()
        again = safety.report_create(
            actor=eve, target_kind="profile", target_id=alice.pk, category="harassment"
        )
    suspended = client_a.post(
        f"/api/v1/safety/reports/{again.pk}/act/",
        {"outcome": "suspend", "note": "Repeated"},
        content_type=JSON,
    )
    assert suspended.status_code == 200
    with tenant_context(network_a):
        alice.refresh_from_db()
        assert alice.state == MemberState.DEACTIVATED
        event = AuditEvent.objects.get(verb="member.deactivate", target_id=str(alice.pk))
        assert event.reason.startswith(f"Report {again.pk} (Harassment or bullying): Repeated")


def test_members_see_only_their_own_reports_and_never_the_queue(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    _alice, bob, _olive, eve = people
    with tenant_context(network_a):
        bobs = safety.report_create(
            actor=bob, target_kind="listing", target_id=offer.pk, category="spam"
        )
    client_a.force_login(eve)
    assert client_a.get("/api/v1/safety/reports/").json()["results"] == []
    assert client_a.get(f"/api/v1/safety/reports/{bobs.pk}/").status_code == 404
    assert (
        client_a.post(
            f"/api/v1/safety/reports/{bobs.pk}/act/",
            {"outcome": "dismiss", "note": "x"},
            content_type=JSON,
        ).status_code
        == 404
    )
    assert client_a.get("/safety/reports/").status_code == 403
    assert client_a.get(f"/safety/reports/{bobs.pk}/").status_code == 404
    client_a.force_login(bob)
    mine = client_a.get("/api/v1/safety/reports/").json()["results"]
    assert [r["id"] for r in mine] == [bobs.pk]
    assert client_a.get(f"/api/v1/safety/reports/{bobs.pk}/").status_code == 200


def test_another_networks_members_and_organisers_see_and_change_nothing(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    _alice, bob, _olive, _ = people
    with tenant_context(network_a):
        report = safety.report_create(
            actor=bob, target_kind="listing", target_id=offer.pk, category="spam"
        )
    from core.members.models import Role

    brenda = make_member(network_b, full_name="Brenda B", role=Role.ORGANISER)
    client_b.force_login(brenda)
    assert client_b.get("/api/v1/safety/reports/").json()["results"] == []
    assert client_b.get(f"/api/v1/safety/reports/{report.pk}/").status_code == 404
    assert (
        client_b.post(
            f"/api/v1/safety/reports/{report.pk}/act/",
            {"outcome": "dismiss", "note": "x"},
            content_type=JSON,
        ).status_code
        == 404
    )
    assert client_b.get(f"/safety/reports/{report.pk}/").status_code == 404
    # Reporting A's listing, member or exchange from B: no such thing there.
    for kind, target in (("listing", offer.pk), ("profile", bob.pk)):
        refused = client_b.post(
            "/api/v1/safety/reports/",
            {"target_kind": kind, "target_id": target, "category": "spam"},
            content_type=JSON,
        )
        assert refused.status_code == 404
        assert client_b.get(f"/safety/report/{kind}/{target}/").status_code == 404
    with tenant_context(network_a):
        report.refresh_from_db()
        assert report.status == Status.OPEN
        assert Report.objects.count() == 1


def test_reporting_a_listing_and_acting_from_the_pages(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    _alice, bob, olive, _ = people
    client_a.force_login(bob)
    detail = client_a.get(f"/listings/{offer.pk}/")
    assert f'href="/safety/report/listing/{offer.pk}/"'.encode() in detail.content
    form = client_a.get(f"/safety/report/listing/{offer.pk}/")
    assert form.status_code == 200 and b"QI coaching" in form.content
    missing = client_a.post(f"/safety/report/listing/{offer.pk}/", {"details": "spam"})
    assert missing.status_code == 400 and b"Choose the reason that fits best." in missing.content
    sent = client_a.post(
        f"/safety/report/listing/{offer.pk}/",
        {"category": "spam", "details": "Selling"},
        follow=True,
    )
    assert b"the organisers have your report" in sent.content
    assert b"We received your report" in client_a.get("/notifications/").content

    client_a.force_login(olive)
    queue = client_a.get("/safety/reports/")
    with tenant_context(network_a):
        report = Report.objects.get()
    assert f"/safety/reports/{report.pk}/".encode() in queue.content
    page = client_a.get(f"/safety/reports/{report.pk}/")
    assert b"Hide the listing" in page.content and b"Selling" in page.content
    empty = client_a.post(f"/safety/reports/{report.pk}/", {"outcome": "hide_listing"})
    assert empty.status_code == 400 and b"Write a note for the record" in empty.content
    done = client_a.post(
        f"/safety/reports/{report.pk}/", {"outcome": "hide_listing", "note": "No selling"}
    )
    assert done.status_code == 302
    with tenant_context(network_a):
        assert Listing.objects.get(pk=offer.pk).hidden_reason == "No selling"
    assert b"No open reports" in client_a.get("/safety/reports/").content
    assert b"No selling" in client_a.get("/safety/reports/?show=handled").content


def test_the_queue_api_reads_in_the_same_number_of_queries_for_more_reports(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
    make_member: Callable[..., Member],
) -> None:
    alice, bob, olive, eve = people
    client_a.force_login(olive)

    def count() -> int:
        with tenant_context(network_a), CaptureQueriesContext(connection) as queries:
            client_a.get("/api/v1/safety/reports/")
        return len(queries)

    with tenant_context(network_a):
        safety.report_create(actor=bob, target_kind="listing", target_id=offer.pk, category="spam")
    one = count()
    with tenant_context(network_a):
        for member in (bob, eve):
            safety.report_create(
                actor=member, target_kind="profile", target_id=alice.pk, category="harassment"
            )
        safety.report_create(actor=eve, target_kind="listing", target_id=offer.pk, category="spam")
    assert count() == one


def test_a_report_of_a_message_in_an_exchange_the_member_is_not_in_is_not_found(
    network_a: Network, people: tuple[Member, Member, Member, Member], offer: Listing
) -> None:
    alice, bob, _olive, eve = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hello")
        message = Message.objects.get(exchange=exchange)
        with pytest.raises(NotFound):
            safety.report_create(
                actor=eve, target_kind="message", target_id=message.pk, category="spam"
            )
        with pytest.raises(NotFound):
            safety.report_create(
                actor=eve, target_kind="exchange", target_id=exchange.pk, category="spam"
            )
        report = safety.report_create(
            actor=alice, target_kind="exchange", target_id=exchange.pk, category="safety"
        )
        assert report.subject == bob

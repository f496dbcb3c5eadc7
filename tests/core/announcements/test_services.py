"""Announcements: audiences, sending and scheduling, the home page, the email outbox
(batches, refusals, bounces), one-click unsubscribe, and isolation between networks."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.announcements.models import Announcement, Audience, Delivery, Recipient, State
from core.announcements.selectors import (
    ANNOUNCEMENTS_SHOWN,
    SHOWN_LIMIT,
    access_announcement,
    announcements_shown,
    delivery_counts,
)
from core.announcements.services import (
    AnnouncementRefused,
    announcement_cancel,
    announcement_create,
    announcement_dismiss,
    announcement_email_queue,
    announcement_send,
    announcements_due,
    announcements_email_sweep,
)
from core.announcements.tasks import announcement_email_batch
from core.audit.models import AuditEvent
from core.members.models import Profession, Role
from core.notifications.models import Kind, Notification
from core.notifications.selectors import email_preferences
from core.notifications.services import email_preferences_set, notification_send
from core.notifications.tasks import notification_email
from hexitime.celery import app
from kernel.errors import NotFound, PermissionDenied
from tests.conftest import host_of, selected_columns
from tests.servers import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from aiosmtpd.smtp import SMTP, Envelope, Session
    from django.core.mail import EmailMessage

    from core.members.models import Member
    from tenants.models import Network


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> tuple[Member, Member, Member]:
    organiser = make_member(network_a, role=Role.ORGANISER, full_name="Olu Organiser")
    nurse = make_member(network_a, email="nina@nhs.net", profession=Profession.NURSE)
    doctor = make_member(network_a, email="dev@nhs.net", profession=Profession.DOCTOR)
    return organiser, nurse, doctor


def _write(organiser: Member, **fields: Any) -> Announcement:
    fields.setdefault("title", "Winter wellbeing week")
    fields.setdefault("body", "Drop-in sessions every lunchtime.")
    return announcement_create(actor=organiser, **fields)


def _recipients(announcement: Announcement) -> dict[int, str]:
    return dict(
        Recipient.objects.filter(announcement=announcement).values_list("member_id", "email")
    )


def test_an_announcement_to_a_profession_reaches_only_its_members_until_dismissed(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, doctor = people
    with tenant_context(network_a):
        draft = _write(organiser, audience=Audience.PROFESSION, audience_value="nurse")
        assert announcements_shown(member=nurse) == []  # a draft shows nowhere
        sent = announcement_send(actor=organiser, announcement=draft)
        assert sent.state == State.SENT
        assert _recipients(sent) == {nurse.pk: Delivery.PENDING}
        assert [r.announcement.title for r in announcements_shown(member=nurse)] == [
            "Winter wellbeing week"
        ]
        assert announcements_shown(member=doctor) == []
        assert announcement_dismiss(actor=nurse, announcement_id=sent.pk) is True
        assert announcements_shown(member=nurse) == []
        assert announcement_dismiss(actor=doctor, announcement_id=sent.pk) is False
        verbs = list(AuditEvent.objects.order_by("pk").values_list("verb", flat=True))
        assert verbs == ["announcement.create", "announcement.send"]


def test_audiences_by_role_and_organisation(
    network_a: Network, people: tuple[Member, Member, Member], make_member: Callable[..., Member]
) -> None:
    organiser, nurse, _ = people
    lead = make_member(network_a, role=Role.QI_LEAD, organisation="Oxford University Hospitals")
    with tenant_context(network_a):
        by_role = announcement_send(
            actor=organiser,
            announcement=_write(organiser, audience="role", audience_value="qi_lead"),
        )
        assert set(_recipients(by_role)) == {lead.pk}
        by_org = _write(
            organiser, audience="organisation", audience_value="oxford university hospitals"
        )
        by_org = announcement_send(actor=organiser, announcement=by_org)
        assert set(_recipients(by_org)) == {lead.pk}
        everyone = announcement_send(actor=organiser, announcement=_write(organiser))
        assert set(_recipients(everyone)) == {organiser.pk, nurse.pk, people[2].pk, lead.pk}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"body": "<b></b>"}, "body"),
        ({"audience": "profession", "audience_value": "astronaut"}, "audience_value"),
        ({"audience": "organisation", "audience_value": ""}, "audience_value"),
        ({"audience": "everyone"}, "audience"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_input_is_refused_with_a_reason_and_nothing_saved(
    network_a: Network, people: tuple[Member, Member, Member], fields: dict[str, Any], field: str
) -> None:
    organiser = people[0]
    with tenant_context(network_a):
        with pytest.raises(AnnouncementRefused) as refused:
            _write(organiser, **fields)
        assert refused.value.field == field
        assert not Announcement.objects.exists()


def test_only_organisers_write_or_send(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, _ = people
    with tenant_context(network_a):
        with pytest.raises(PermissionDenied):
            _write(nurse)
        draft = _write(organiser)
        with pytest.raises(PermissionDenied):
            announcement_send(actor=nurse, announcement=draft)
        with pytest.raises(NotFound):
            access_announcement(draft.pk, member=nurse)


def test_scheduled_announcements_are_sent_by_the_beat_run_once_due_and_can_be_cancelled(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, _ = people
    now = timezone.now()
    with tenant_context(network_a):
        later = announcement_send(
            actor=organiser, announcement=_write(organiser), send_at=now + timedelta(hours=2)
        )
        cancelled = announcement_send(
            actor=organiser,
            announcement=_write(organiser, title="B"),
            send_at=now + timedelta(hours=1),
        )
        assert later.state == State.SCHEDULED
        announcement_cancel(actor=organiser, announcement=cancelled)
        assert announcements_due(now=now + timedelta(hours=1)) == 0
        assert announcements_shown(member=nurse) == []
        assert announcements_due(now=now + timedelta(hours=3)) == 1
        assert announcements_due(now=now + timedelta(hours=3)) == 0  # sent once
        later.refresh_from_db()
        assert later.state == State.SENT
        assert [r.announcement_id for r in announcements_shown(member=nurse)] == [later.pk]
        with pytest.raises(AnnouncementRefused):
            announcement_cancel(actor=organiser, announcement=later)  # too late
        with pytest.raises(AnnouncementRefused):
            announcement_send(actor=organiser, announcement=later)  # not twice
        with pytest.raises(AnnouncementRefused):
            announcement_send(
                actor=organiser, announcement=_write(organiser), send_at=now + timedelta(days=400)
            )
        assert Announcement.objects.get(pk=cancelled.pk).state == State.CANCELLED


def test_members_who_turned_announcement_emails_off_see_it_but_are_not_emailed(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, doctor = people
    with tenant_context(network_a):
        assert email_preferences(member=nurse)[Kind.ANNOUNCEMENT] is True  # on by default
        email_preferences_set(actor=nurse, choices={Kind.ANNOUNCEMENT: False})
        sent = announcement_send(actor=organiser, announcement=_write(organiser))
        assert _recipients(sent)[nurse.pk] == Delivery.NOT_EMAILED
        assert _recipients(sent)[doctor.pk] == Delivery.PENDING
        assert len(announcements_shown(member=nurse)) == 1


def test_each_pending_recipient_gets_its_own_message_once_with_one_click_unsubscribe(
    network_a: Network, people: tuple[Member, Member, Member], make_member: Callable[..., Member]
) -> None:
    organiser = people[0]
    for _ in range(100):
        make_member(network_a)
    with tenant_context(network_a):
        sent = announcement_send(actor=organiser, announcement=_write(organiser))
        ids = list(Recipient.objects.filter(announcement=sent).values_list("pk", flat=True))
        assert len(ids) == 103
        app.control.purge()
        assert (
            announcement_email_queue(schema_name=network_a.schema_name, announcement_id=sent.pk)
            == 2
        )  # 100 + 3
        app.control.purge()
        assert announcement_email_batch(schema_name=network_a.schema_name, recipient_ids=ids) == 103
        # Run again (a retry, or the sweep's copy): nothing is sent twice.
        assert announcement_email_batch(schema_name=network_a.schema_name, recipient_ids=ids) == 0
    assert len(mail.outbox) == 103
    assert all(len(message.to) == 1 and not message.bcc for message in mail.outbox)
    first = mail.outbox[0]
    assert first.subject == "[Network A] Winter wellbeing week"
    assert "Drop-in sessions every lunchtime." in first.body
    assert first.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.extra_headers["List-Unsubscribe"].startswith(
        f"<https://{host_of(network_a)}/notifications/unsubscribe/"
    )
    with tenant_context(network_a):
        assert delivery_counts(access_announcement(sent.pk, member=organiser))["sent"] == 103


def test_the_sweep_queues_again_what_a_lost_message_left_pending(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser = people[0]
    with tenant_context(network_a):
        sent = announcement_send(actor=organiser, announcement=_write(organiser))
        # The commit's queueing never happened (a test transaction never commits): the rows
        # are the outbox.
        app.control.purge()
        assert announcements_email_sweep(grace=timedelta(hours=1)) == 0  # still in grace
        assert announcements_email_sweep(grace=timedelta(0)) == 3
        app.control.purge()
        assert set(_recipients(sent).values()) == {Delivery.PENDING}


class Refusing:
    """A local mail relay (the outside world's stand-in) that refuses one address."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.delivered: list[list[str]] = []

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == self.refused:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.delivered.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def test_a_recipient_the_relay_refuses_is_failed_with_its_answer_and_the_rest_sent(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, doctor = people
    relay = Refusing("nina@nhs.net")
    controller = Controller(relay, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with (
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=controller.port,
                EMAIL_USE_TLS=False,
            ),
            tenant_context(network_a),
        ):
            sent = announcement_send(actor=organiser, announcement=_write(organiser))
            ids = list(Recipient.objects.filter(announcement=sent).values_list("pk", flat=True))
            assert (
                announcement_email_batch(schema_name=network_a.schema_name, recipient_ids=ids) == 2
            )
            refused = Recipient.objects.get(announcement=sent, member=nurse)
            assert refused.email == Delivery.FAILED
            assert "550" in refused.reason and "No such mailbox" in refused.reason
            counts = delivery_counts(access_announcement(sent.pk, member=organiser))
            assert (counts["sent"], counts["failed"], counts["pending"]) == (2, 1, 0)
    finally:
        controller.stop()
    assert sorted(r for to in relay.delivered for r in to) == sorted(
        [organiser.email, doctor.email]
    )


def test_a_bounced_address_counts_as_bounced_and_is_not_mailed_again_until_it_changes(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, _ = people
    with tenant_context(network_a):
        first = announcement_send(actor=organiser, announcement=_write(organiser))
        ids = list(Recipient.objects.filter(announcement=first).values_list("pk", flat=True))
        announcement_email_batch(schema_name=network_a.schema_name, recipient_ids=ids)
    call_command("email_bounce", network_a.slug, "Nina@nhs.net", reason="550 mailbox full")
    with tenant_context(network_a):
        bounced = Recipient.objects.get(announcement=first, member=nurse)
        assert (bounced.email, bounced.reason) == (Delivery.BOUNCED, "550 mailbox full")
        assert delivery_counts(access_announcement(first.pk, member=organiser))["bounced"] == 1
        second = announcement_send(actor=organiser, announcement=_write(organiser, title="2"))
        assert _recipients(second)[nurse.pk] == Delivery.BOUNCED
        # Other emails to the address are not sent either.
        mail.outbox.clear()
        note = notification_send(
            recipient=nurse, kind=Kind.RESPONSE_ACCEPTED, key="k1", title="Accepted"
        )
        assert (
            notification_email(schema_name=network_a.schema_name, notification_id=note.pk) is False
        )
        assert mail.outbox == []
        nurse.email = "nina.new@nhs.net"
        nurse.save(update_fields=["email"])
        third = announcement_send(actor=organiser, announcement=_write(organiser, title="3"))
        assert _recipients(third)[nurse.pk] == Delivery.PENDING


def test_the_bounce_command_refuses_an_unknown_network_or_address(network_a: Network) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("email_bounce", "no-such-network", "a@nhs.net")
    with pytest.raises(CommandError):
        call_command("email_bounce", network_a.slug, "not an address")


def _unsubscribe_path(message: EmailMessage) -> str:
    return urlsplit(message.extra_headers["List-Unsubscribe"].strip("<>")).path


@pytest.mark.parametrize("kind", [Kind.WEEKLY_DIGEST, Kind.REQUEST_MATCH])
def test_digests_and_daily_summaries_carry_one_click_unsubscribe_and_other_emails_do_not(
    network_a: Network, people: tuple[Member, Member, Member], kind: Kind
) -> None:
    nurse = people[1]
    with tenant_context(network_a):
        email_preferences_set(actor=nurse, choices={kind: True})
        bulk = Notification.objects.create(
            recipient=nurse, kind=kind, key="bulk", title="3 new", email_pending=True
        )
        single = notification_send(
            recipient=nurse, kind=Kind.RESPONSE_ACCEPTED, key="one", title="Accepted"
        )
        for note in (bulk, single):
            notification_email(schema_name=network_a.schema_name, notification_id=note.pk)
    bulk_mail, single_mail = mail.outbox
    assert bulk_mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "List-Unsubscribe" not in single_mail.extra_headers
    # One click: a POST with no session and no CSRF token turns that kind off.
    client = Client(HTTP_HOST=host_of(network_a), enforce_csrf_checks=True)
    path = _unsubscribe_path(bulk_mail)
    assert client.post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    with tenant_context(network_a):
        assert email_preferences(member=nurse)[kind] is False
        assert email_preferences(member=nurse)[Kind.RESPONSE_ACCEPTED] is True


def test_the_unsubscribe_link_asks_first_on_get_and_refuses_a_changed_token(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser, nurse, _ = people
    with tenant_context(network_a):
        sent = announcement_send(actor=organiser, announcement=_write(organiser))
        announcement_email_batch(
            schema_name=network_a.schema_name,
            recipient_ids=[Recipient.objects.get(announcement=sent, member=nurse).pk],
        )
    path = _unsubscribe_path(mail.outbox[0])
    client = Client(HTTP_HOST=host_of(network_a))
    page = client.get(path)
    assert page.status_code == 200
    assert b"Unsubscribe from these emails?" in page.content
    with tenant_context(network_a):
        assert email_preferences(member=nurse)[Kind.ANNOUNCEMENT] is True  # GET changes nothing
    assert client.post(path[:-3] + "x/").status_code == 404
    assert client.post(path).status_code == 200
    with tenant_context(network_a):
        assert email_preferences(member=nurse)[Kind.ANNOUNCEMENT] is False
        later = announcement_send(actor=organiser, announcement=_write(organiser, title="2"))
        assert _recipients(later)[nurse.pk] == Delivery.NOT_EMAILED


def test_networks_are_isolated(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member],
    make_member: Callable[..., Member],
) -> None:
    organiser_a, nurse_a, _ = people
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    nurse_b = make_member(network_b, email="nina@nhs.net", profession=Profession.NURSE)
    with tenant_context(network_a):
        announcement_send(actor=organiser_a, announcement=_write(organiser_a, title="A1"))
        sent_a = announcement_send(actor=organiser_a, announcement=_write(organiser_a))
        announcement_email_batch(
            schema_name=network_a.schema_name,
            recipient_ids=[Recipient.objects.get(announcement=sent_a, member=nurse_a).pk],
        )
    with tenant_context(network_b):
        # B's organiser cannot see A's announcement, and B's audience is B's members only.
        with pytest.raises(NotFound):
            access_announcement(sent_a.pk, member=organiser_b)
        sent_b = announcement_send(actor=organiser_b, announcement=_write(organiser_b, title="B"))
        assert set(_recipients(sent_b)) == {organiser_b.pk, nurse_b.pk}
        assert [r.announcement.title for r in announcements_shown(member=nurse_b)] == ["B"]
        # Ids are per schema: A's second announcement has no row in B.
        assert announcement_dismiss(actor=nurse_b, announcement_id=sent_a.pk) is False
        assert len(announcements_shown(member=nurse_b)) == 1
    # A's unsubscribe link does nothing on B's host, even for a member with the same id.
    path = _unsubscribe_path(mail.outbox[0])
    client_b = Client(HTTP_HOST=host_of(network_b))
    assert client_b.post(path).status_code == 404
    assert client_b.get(path).status_code == 404
    with tenant_context(network_b):
        assert email_preferences(member=nurse_b)[Kind.ANNOUNCEMENT] is True
    with tenant_context(network_a):
        assert email_preferences(member=nurse_a)[Kind.ANNOUNCEMENT] is True


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_each_recipient_once_after_the_commit(
    worker: None, network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    organiser = people[0]
    with tenant_context(network_a):
        sent = announcement_send(actor=organiser, announcement=_write(organiser))
        deadline = time.monotonic() + 20
        while Recipient.objects.filter(announcement=sent, email=Delivery.PENDING).exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert announcements_email_sweep(grace=timedelta(0)) == 0  # nothing left pending
    time.sleep(0.3)  # room for a wrongly queued second copy
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in people)


def test_a_members_data_has_their_announcements_and_closing_forgets_the_address(
    network_a: Network, people: tuple[Member, Member, Member]
) -> None:
    from core.privacy.selectors import member_data
    from core.privacy.services import member_close

    organiser, nurse, _ = people
    with tenant_context(network_a):
        sent = announcement_send(actor=organiser, announcement=_write(organiser))
        rows = member_data(member=nurse, network=network_a)["announcements"]
        assert [(r["announcement__title"], r["email"]) for r in rows] == [
            ("Winter wellbeing week", Delivery.PENDING)
        ]
        member_close(actor=nurse, password="correct-horse-battery")
        kept = Recipient.objects.get(announcement=sent, member=nurse)
        assert (kept.address, kept.reason, kept.email) == ("", "", Delivery.NOT_EMAILED)
        assert delivery_counts(access_announcement(sent.pk, member=organiser))["reached"] == 3


def test_the_home_reads_announcements_as_the_orm_reads_them(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member],
    make_member: Callable[..., Member],
) -> None:
    """`ANNOUNCEMENTS_SHOWN`: each recipient and its announcement whole, in their models'
    column order, as `select_related` reads them: sent and not dismissed, newest first, at
    most SHOWN_LIMIT. B's member of the same profession sees none of A's."""
    assert selected_columns(ANNOUNCEMENTS_SHOWN, "recipient") == [
        field.column for field in Recipient._meta.concrete_fields
    ]
    assert ["id", *selected_columns(ANNOUNCEMENTS_SHOWN, "announcement")] == [
        field.column for field in Announcement._meta.concrete_fields
    ]
    organiser, nurse, _ = people
    with tenant_context(network_a):
        for n in range(SHOWN_LIMIT + 2):
            sent = announcement_send(
                actor=organiser,
                announcement=_write(organiser, title=f"Notice {n}", audience=Audience.ALL),
            )
        announcement_dismiss(actor=nurse, announcement_id=sent.pk)
        _write(organiser, title="A draft", audience=Audience.ALL)
        orm = (
            Recipient.objects.filter(
                member=nurse, dismissed_at__isnull=True, announcement__state=State.SENT
            )
            .select_related("announcement")
            .order_by("-announcement__sent_at", "-announcement_id")[:SHOWN_LIMIT]
        )

        def whole(recipients: Iterable[Recipient]) -> list[list[object]]:
            return [
                [getattr(r, f.attname) for f in Recipient._meta.concrete_fields]
                + [getattr(r.announcement, f.attname) for f in Announcement._meta.concrete_fields]
                for r in recipients
            ]

        shown = announcements_shown(member=nurse)
        assert whole(shown) == whole(orm)
        assert [r.announcement.title for r in shown] == [f"Notice {n}" for n in (5, 4, 3, 2, 1)]
    with tenant_context(network_b):
        assert announcements_shown(member=make_member(network_b, profession=nurse.profession)) == []

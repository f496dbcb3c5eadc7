from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_retry
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from core.notifications.models import Kind, Notification
from core.notifications.selectors import email_preferences, notification_unread_count
from core.notifications.services import (
    email_preferences_set,
    notification_email_queue,
    notification_send,
    notifications_email_sweep,
)
from hexitime.celery import app
from tests.servers import free_port

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import DjangoCaptureOnCommitCallbacks

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

DAY = timedelta(days=1)


def _send(member: Member, key: str = "exchange:1:accepted", **fields: Any) -> Notification:
    fields.setdefault("title", "Your response was accepted")
    return notification_send(recipient=member, kind=Kind.RESPONSE_ACCEPTED, key=key, **fields)


def _wait_for_mail(count: int) -> None:
    deadline = time.monotonic() + 20
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_emails_once_after_commit_however_often_the_event_repeats(
    worker: None, network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a, email="alice@nhs.net", full_name="Alice Adeyemi")
    with tenant_context(network_a):
        with transaction.atomic():
            first = _send(alice, body="Ben accepted your offer of coaching.")
            assert _send(alice).pk == first.pk  # the same key again
            assert mail.outbox == []  # nothing leaves before the commit
        _wait_for_mail(1)
        time.sleep(0.3)  # room for a wrongly queued second email to arrive
        assert len(mail.outbox) == 1
        email = mail.outbox[0]
        assert email.to == ["alice@nhs.net"]
        assert email.subject == "[Network A] Your response was accepted"
        assert "Ben accepted your offer of coaching." in email.body
        assert Notification.objects.get().emailed_at is not None


@pytest.mark.django_db(transaction=True)
def test_nothing_is_emailed_for_a_change_that_rolled_back(
    worker: None, network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        with pytest.raises(RuntimeError), transaction.atomic():
            _send(alice)
            raise RuntimeError("the exchange failed to save")
        assert not Notification.objects.exists()
        _send(alice, key="a-later-event")  # proves the worker is up and delivering
    _wait_for_mail(1)
    time.sleep(0.3)
    assert [m.subject for m in mail.outbox] == ["[Network A] Your response was accepted"]


@pytest.mark.django_db(transaction=True)
def test_an_email_whose_message_was_lost_is_sent_by_the_sweep_once(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a, email="alice@nhs.net")
    with tenant_context(network_a):
        lost = _send(alice)
        app.control.purge()  # the queued message is lost, as with a Redis that crashed
        with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
            assert notifications_email_sweep(grace=timedelta(hours=1), horizon=DAY) == 0
            assert notifications_email_sweep(grace=timedelta(0), horizon=DAY) == 1
            _wait_for_mail(1)
            deadline = time.monotonic() + 10  # the send commits just after the email leaves
            while Notification.objects.filter(pk=lost.pk, email_pending=True).exists():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # Sweeping again, or a retry arriving late, sends nothing more.
            assert notifications_email_sweep(grace=timedelta(0), horizon=DAY) == 0
            notification_email_queue(schema_name=network_a.schema_name, ids=[lost.pk])
            time.sleep(0.5)  # room for a wrong second email to arrive
        assert [m.to for m in mail.outbox] == [["alice@nhs.net"]]
        lost.refresh_from_db()
        assert lost.emailed_at is not None
        assert lost.email_pending is False


@pytest.mark.django_db(transaction=True)
def test_the_sweep_leaves_emails_older_than_its_horizon_and_other_networks_alone(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a)
    ben = make_member(network_b)
    with tenant_context(network_a):
        _send(alice)
    with tenant_context(network_b):
        _send(ben)
    app.control.purge()
    with tenant_context(network_a):
        assert notifications_email_sweep(grace=timedelta(0), horizon=timedelta(0)) == 0
        assert notifications_email_sweep(grace=timedelta(0), horizon=DAY) == 1  # B's stays
    app.control.purge()


@pytest.mark.django_db(transaction=True)
def test_a_refused_smtp_connection_is_retried_and_the_email_sent_once(
    worker: None, network_a: Network, make_member: Callable[..., Member]
) -> None:
    retries: list[str] = []

    def record(sender: object = None, reason: object = None, **_: object) -> None:
        retries.append(repr(reason))

    task_retry.connect(record, weak=False)
    alice = make_member(network_a, email="alice@nhs.net")
    try:
        # Nothing listens on the port: the mail relay is down.
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=free_port(),
        ):
            with tenant_context(network_a):
                note = _send(alice)
            deadline = time.monotonic() + 20
            while not retries and time.monotonic() < deadline:
                time.sleep(0.05)
        assert retries and "ConnectionRefusedError" in retries[0]
        _wait_for_mail(1)  # the relay is back (the test's mailbox): the retry delivers
    finally:
        task_retry.disconnect(record)
    assert [m.to for m in mail.outbox] == [["alice@nhs.net"]]
    with tenant_context(network_a):
        deadline = time.monotonic() + 10  # the send commits just after the email leaves
        while Notification.objects.filter(pk=note.pk, email_pending=True).exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_a_member_who_turned_email_off_gets_the_notification_but_no_email(
    network_a: Network,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        email_preferences_set(actor=alice, choices={Kind.RESPONSE_ACCEPTED: False})
        with django_capture_on_commit_callbacks() as callbacks:
            _send(alice)
        assert callbacks == []
        assert notification_unread_count(member=alice) == 1
        assert email_preferences(member=alice)[Kind.RESPONSE_ACCEPTED] is False
        assert email_preferences(member=alice)[Kind.CONFIRM_HOURS] is True


def test_pages_list_and_mark_notifications_read(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a, password="pw-alice-123")
    with tenant_context(network_a):
        _send(alice, url="/exchanges/1/")
        _send(alice, key="second", title="Please confirm hours")
    client_a.force_login(alice)
    page = client_a.get("/notifications/")
    assert page.status_code == 200
    assert b"You have 2 unread notifications." in page.content
    assert b"Please confirm hours" in page.content
    home = client_a.get("/")
    assert b'<span class="count">2<' in home.content  # the unread count in the header
    response = client_a.post("/notifications/read-all/")
    assert response.status_code == 302
    with tenant_context(network_a):
        assert notification_unread_count(member=alice) == 0


def test_email_settings_page_saves_choices(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    client_a.force_login(alice)
    assert b'id="email_weekly_digest"' in client_a.get("/notifications/settings/").content
    client_a.post("/notifications/settings/", {"email_confirm_hours": "on"})
    with tenant_context(network_a):
        chosen = email_preferences(member=alice)
    assert chosen[Kind.CONFIRM_HOURS] is True
    assert chosen[Kind.WEEKLY_DIGEST] is False


def test_api_lists_marks_and_sets_preferences(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        note = _send(alice)
    client_a.force_login(alice)
    listing = client_a.get("/api/v1/notifications/").json()
    assert listing["unread_count"] == 1
    assert [n["title"] for n in listing["results"]] == ["Your response was accepted"]
    assert client_a.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 204
    assert client_a.get("/api/v1/notifications/").json()["unread_count"] == 0
    prefs = client_a.put(
        "/api/v1/notifications/preferences/",
        {"weekly_digest": False},
        content_type="application/json",
    ).json()
    assert prefs["weekly_digest"] is False
    assert prefs["confirm_hours"] is True


def test_nobody_else_sees_or_marks_a_members_notifications(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    alice = make_member(network_a)
    bob_in_a = make_member(network_a)
    bob_in_b = make_member(network_b)
    with tenant_context(network_a):
        note = _send(alice)
    client_a.force_login(bob_in_a)
    assert client_a.get("/api/v1/notifications/").json()["results"] == []
    assert client_a.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    client_b.force_login(bob_in_b)
    assert client_b.get("/api/v1/notifications/").json()["results"] == []
    assert client_b.post(f"/api/v1/notifications/{note.pk}/read/").status_code == 404
    with tenant_context(network_a):
        assert notification_unread_count(member=alice) == 1


def test_anonymous_visitors_are_sent_to_sign_in(client_a: NetworkClient) -> None:
    assert client_a.get("/api/v1/notifications/").status_code in {401, 403}
    response = client_a.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_home_page_counts_unread_notifications_in_plain_english(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    from core.notifications.models import Kind
    from core.notifications.services import notification_send

    member = make_member(network_a)
    client_a.force_login(member)
    with tenant_context(network_a):
        notification_send(recipient=member, kind=Kind.ACCOUNT, key="one", title="One")
    assert b"You have 1 unread notification." in client_a.get("/").content
    with tenant_context(network_a):
        notification_send(recipient=member, kind=Kind.ACCOUNT, key="two", title="Two")
    assert b"You have 2 unread notifications." in client_a.get("/").content


def test_api_refuses_preferences_for_kinds_that_do_not_exist(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    alice = make_member(network_a)
    client_a.force_login(alice)
    refused = client_a.put(
        "/api/v1/notifications/preferences/",
        {"weekly_digest": False, "telepathy": True},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json() == {"telepathy": ["Not a kind of notification."]}
    with tenant_context(network_a):
        assert email_preferences(member=alice)[Kind.WEEKLY_DIGEST] is True  # nothing half-set

"""Organisers invite people by email address or an uploaded CSV (name, email, optional
role). An invitation expires, can be resent and revoked, and lets the person join in one
step whatever the join policy. Expired invitations are purged with unverified sign-ups."""

from __future__ import annotations

import datetime
import re
import threading
import time
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import connection as db_connection
from django.db import connections
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import sql

from core.audit.models import AuditEvent
from core.joining.services import (
    INVITATION_DAYS,
    InvitationRefused,
    invitation_emails_queue,
    invitation_from_token,
    invitation_token,
    invitations_csv_read,
    invitations_email_sweep,
    invitations_expired_purge,
    invitations_send,
    join_settings_set,
)
from core.joining.tasks import invitations_purge_expired
from core.members.models import Invitation, JoinPolicy, Member, MemberState, Role
from hexitime.celery import app
from kernel.errors import PermissionDenied
from ledger.selectors import member_balance
from tests.faults.test_provisioning_faults import _test_database_url

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olivia Organiser", role=Role.ORGANISER)


def _csv(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _mail_to(address: str) -> list[EmailMessage]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if found := [m for m in mail.outbox if m.to == [address]]:
            return found
        time.sleep(0.05)
    return []


def _link_token(message: EmailMessage) -> str:
    """The token of the invitation link in `message` (a token carries the time it was
    signed, so one made again a second later differs: read the email's own)."""
    found = re.search(r"/join/invited/([^/\s]+)/", str(message.body))
    assert found, message.body
    return found.group(1)


def test_organiser_invites_addresses_and_the_person_joins_in_one_step_under_any_policy(
    network_a: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    make_member(network_a, email="already@nhs.net")
    with tenant_context(network_a):
        join_settings_set(
            actor=organiser, policy=JoinPolicy.EMAIL_DOMAIN, allowed_domains=["trust.example"]
        )
    client_a.force_login(organiser)
    page = client_a.post(
        "/members/invitations/",
        {
            "action": "addresses",
            "emails": "nia@nhs.net, ALREADY@nhs.net\nbad-address",
            "role": "member",
        },
    )
    assert page.status_code == 200
    assert "“bad-address” is not an email address" in page.content.decode()
    with tenant_context(network_a):
        assert not Invitation.objects.exists()  # nothing half-written
    done = client_a.post(
        "/members/invitations/",
        {
            "action": "addresses",
            "emails": "nia@nhs.net, ALREADY@nhs.net",
            "role": "qi_lead",
        },
        follow=True,
    )
    text = done.content.decode()
    assert "Invited 1 person" in text and "1 already a member" in text
    assert "nia@nhs.net" in text
    with tenant_context(network_a):
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.role) == ("nia@nhs.net", Role.QI_LEAD)
        event = AuditEvent.objects.get(verb="invitation.send")
        assert event.actor_id == organiser.pk
        token = invitation_token(invitation)
    client_a.logout()

    # The invited address is outside the allow-list: the invitation lets her in anyway.
    form = client_a.get(f"/join/invited/{token}/")
    assert form.status_code == 200 and "nia@nhs.net" in form.content.decode()
    joined = client_a.post(
        f"/join/invited/{token}/", {"full_name": "Nia Nowak", "password": PASSWORD}, follow=True
    )
    assert joined.status_code == 200
    assert "Signed in as Nia Nowak" in joined.content.decode()
    with tenant_context(network_a):
        nia = Member.objects.get(email="nia@nhs.net")
        assert (nia.state, nia.role) == (MemberState.ACTIVE, Role.QI_LEAD)
        assert nia.email_verified_at is not None
        assert member_balance(member=nia) == 120
        assert not Invitation.objects.exists()
    client_a.logout()
    used = client_a.get(f"/join/invited/{token}/")
    assert used.status_code == 400 and "no longer valid" in used.content.decode()


def test_resending_to_someone_who_joined_meanwhile_says_so(
    network_a: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    with tenant_context(network_a):
        invitations_send(actor=organiser, people=[("", "kim@nhs.net", "")])
        invitation = Invitation.objects.get()
    make_member(network_a, email="kim@nhs.net")  # joined by herself in the meantime
    client_a.force_login(organiser)
    page = client_a.post(f"/members/invitations/{invitation.pk}/resend/", follow=True)
    assert page.status_code == 200
    assert "kim@nhs.net is a member here already" in page.content.decode()
    with tenant_context(network_a):
        token = invitation_token(Invitation.objects.get())
    client_a.logout()
    refused = client_a.post(f"/join/invited/{token}/", {"full_name": "Kim", "password": PASSWORD})
    assert "You are already a member here" in refused.content.decode()


def test_approval_policy_does_not_hold_back_an_invited_person(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
        invitations_send(actor=organiser, people=[("Ola Okafor", "ola@nhs.net", "")])
        token = invitation_token(Invitation.objects.get())
    client_a.post(f"/join/invited/{token}/", {"full_name": "Ola Okafor", "password": PASSWORD})
    with tenant_context(network_a):
        assert Member.objects.get(email="ola@nhs.net").state == MemberState.ACTIVE


def test_a_csv_of_names_emails_and_roles_is_read_row_by_row(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    client_a.force_login(organiser)
    bad = client_a.post(
        "/members/invitations/",
        {
            "action": "csv",
            "file": _csv(
                "name,email,role\nAda Lovelace,ada@nhs.net,organiser\nBob,not-an-email,\n"
                "Cy,cy@nhs.net,wizard\n"
            ),
        },
    )
    text = bad.content.decode()
    assert bad.status_code == 200
    assert "Row 3: “not-an-email” is not an email address" in text
    assert "Row 4: “wizard” is not a role" in text
    with tenant_context(network_a):
        assert not Invitation.objects.exists()

    good = client_a.post(
        "/members/invitations/",
        {
            "action": "csv",
            "file": _csv(
                "name,email,role\nAda Lovelace,ada@nhs.net,Organiser\nBob Bell,bob@nhs.net,\n"
                "Cy Chan,cy@nhs.net,QI lead\n"
            ),
        },
        follow=True,
    )
    assert "Invited 3 people" in good.content.decode()
    with tenant_context(network_a):
        assert dict(Invitation.objects.values_list("email", "role")) == {
            "ada@nhs.net": Role.ORGANISER,
            "bob@nhs.net": Role.MEMBER,
            "cy@nhs.net": Role.QI_LEAD,
        }
        assert Invitation.objects.get(email="bob@nhs.net").full_name == "Bob Bell"


def test_csv_limits_and_unreadable_files_are_refused_clearly(
    network_a: Network, organiser: Member
) -> None:
    with tenant_context(network_a):
        many = "".join(f"P{n},p{n}@nhs.net\n" for n in range(501))
        with pytest.raises(InvitationRefused, match="at most 500 people"):
            invitations_csv_read(_csv(many))
        with pytest.raises(InvitationRefused, match="1 MB"):
            invitations_csv_read(_csv("x" * (1024 * 1024 + 1)))
        with pytest.raises(InvitationRefused, match="UTF-8"):
            invitations_csv_read(SimpleUploadedFile("p.csv", b"\xff\xfe\x00bad"))
        with pytest.raises(InvitationRefused, match="no one to invite"):
            invitations_csv_read(_csv("name,email\n"))
        # No header row, a byte-order mark, and blank lines are fine.
        assert invitations_csv_read(_csv("\ufeffAda,ada@nhs.net\n\nBob,bob@nhs.net,member\n")) == [
            ("Ada", "ada@nhs.net", "member"),
            ("Bob", "bob@nhs.net", "member"),
        ]


@pytest.mark.django_db(transaction=True)
def test_invitations_are_emailed_resent_with_a_new_link_and_revoked(
    worker: None, network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    client_a.force_login(organiser)
    client_a.post(
        "/members/invitations/", {"action": "addresses", "emails": "nia@nhs.net", "role": "member"}
    )
    first = _mail_to("nia@nhs.net")
    assert len(first) == 1 and first[0].subject == "[Network A] You are invited to join Network A"
    old_token = _link_token(first[0])
    with tenant_context(network_a):
        invitation = Invitation.objects.get()
        assert invitation_from_token(old_token).pk == invitation.pk
    mail.outbox.clear()
    later = timezone.now() + datetime.timedelta(seconds=2)
    with tenant_context(network_a):
        Invitation.objects.filter(pk=invitation.pk).update(
            sent_at=later - datetime.timedelta(days=1)
        )
    assert client_a.post(f"/members/invitations/{invitation.pk}/resend/").status_code == 302
    again = _mail_to("nia@nhs.net")
    assert len(again) == 1
    new_token = _link_token(again[0])
    with tenant_context(network_a):
        assert invitation_from_token(new_token).pk == invitation.pk
    assert new_token != old_token
    assert client_a.get(f"/join/invited/{old_token}/").status_code == 400  # replaced
    assert client_a.post(f"/members/invitations/{invitation.pk}/revoke/").status_code == 302
    client_a.logout()
    revoked = client_a.get(f"/join/invited/{new_token}/")
    assert revoked.status_code == 400 and "no longer valid" in revoked.content.decode()
    with tenant_context(network_a):
        assert not Invitation.objects.exists()
        assert AuditEvent.objects.filter(verb="invitation.revoke").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_expired_invitation_says_so_and_is_purged_with_unverified_sign_ups(
    worker: None,
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    with tenant_context(network_a):
        invitations_send(actor=organiser, people=[("", "old@nhs.net", ""), ("", "new@nhs.net", "")])
        old = Invitation.objects.get(email="old@nhs.net")
        long_ago = timezone.now() - datetime.timedelta(days=INVITATION_DAYS + 15)
        expiry = long_ago + datetime.timedelta(days=INVITATION_DAYS)
        Invitation.objects.filter(pk=old.pk).update(sent_at=long_ago, expires_at=expiry)
        old.refresh_from_db()
        token = invitation_token(old)
    with tenant_context(network_b):
        invitations_send(actor=organiser_b, people=[("", "old@nhs.net", "")])
        Invitation.objects.update(expires_at=long_ago)
    expired = client_a.get(f"/join/invited/{token}/")
    assert expired.status_code == 400 and "has expired" in expired.content.decode()
    with tenant_context(network_a):
        assert invitations_purge_expired.apply_async(ignore_result=False).get(timeout=30) == 1
        assert list(Invitation.objects.values_list("email", flat=True)) == ["new@nhs.net"]
        assert AuditEvent.objects.filter(verb="invitation.purge_expired").count() == 1
    with tenant_context(network_b):
        assert Invitation.objects.count() == 1  # B's schema is purged by its own run
        assert invitations_expired_purge() == 1
    # Beat runs it in every network on the schedule of the unverified purge.
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["invitations-purge-expired"]["task"] == invitations_purge_expired.name
    assert (
        schedule["invitations-purge-expired"]["schedule"]
        == schedule["members-purge-unverified"]["schedule"]
    )


def test_other_networks_and_members_cannot_see_use_or_change_invitations(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    with tenant_context(network_a):
        invitations_send(actor=organiser, people=[("Nia", "nia@nhs.net", "organiser")])
        invitation = Invitation.objects.get()
        token = invitation_token(invitation)
    member = make_member(network_a)
    client_a.force_login(member)
    assert client_a.get("/members/invitations/").status_code == 403
    assert client_a.post(f"/members/invitations/{invitation.pk}/revoke/").status_code == 403
    with tenant_context(network_a), pytest.raises(PermissionDenied):
        invitations_send(actor=member, people=[("", "x@nhs.net", "")])

    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    assert "nia@nhs.net" not in client_b.get("/members/invitations/").content.decode()
    assert client_b.post(f"/members/invitations/{invitation.pk}/revoke/").status_code == 404
    assert client_b.post(f"/members/invitations/{invitation.pk}/resend/").status_code == 404
    client_b.logout()
    # A link made in A joins nobody in B.
    assert client_b.get(f"/join/invited/{token}/").status_code == 400
    client_b.post(f"/join/invited/{token}/", {"full_name": "Nia", "password": PASSWORD})
    with tenant_context(network_b):
        assert not Member.objects.filter(email="nia@nhs.net").exists()
    with tenant_context(network_a):
        assert Invitation.objects.filter(pk=invitation.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_an_invitation_whose_message_was_lost_is_sent_by_the_sweep_once(
    network_a: Network, organiser: Member
) -> None:
    with tenant_context(network_a):
        invitations_send(actor=organiser, people=[("", "lost@nhs.net", "")])
        app.control.purge()  # the queued message is lost, as with a Redis that crashed
        lost = Invitation.objects.get()
        assert lost.email_pending
        with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
            assert invitations_email_sweep(grace=datetime.timedelta(hours=1)) == 0
            assert invitations_email_sweep(grace=datetime.timedelta(0)) == 1
            assert len(_mail_to("lost@nhs.net")) == 1
            deadline = time.monotonic() + 10  # the send commits just after the email leaves
            while Invitation.objects.filter(pk=lost.pk, email_pending=True).exists():
                assert time.monotonic() < deadline
                time.sleep(0.05)
            # Sweeping again, or a late copy of the message, sends nothing more.
            assert invitations_email_sweep(grace=datetime.timedelta(0)) == 0
            invitation_emails_queue(schema_name=network_a.schema_name, ids=[lost.pk])
            time.sleep(0.5)  # room for a wrong second email to arrive
        assert [m.to for m in mail.outbox] == [["lost@nhs.net"]]
    schedule = settings.CELERY_BEAT_SCHEDULE["invitations-email-sweep"]
    assert (
        schedule["schedule"]
        == settings.CELERY_BEAT_SCHEDULE["notifications-email-sweep"]["schedule"]
    )


@pytest.mark.django_db(transaction=True)
def test_two_organisers_inviting_one_address_at_once_is_a_refusal_not_an_error(
    network_a: Network, organiser: Member
) -> None:
    """Another session invites the address and has not committed: this batch's insert
    waits on the unique address, and when the other commits, is refused with nothing of it
    written."""
    other = psycopg.connect(_test_database_url())
    try:
        other.execute(sql.SQL("SET search_path = {}").format(sql.Identifier(network_a.schema_name)))
        other.execute(
            "INSERT INTO members_invitation (email, full_name, role, created_at, sent_at,"
            " expires_at, email_pending) VALUES ('race@nhs.net', '', 'member', now(), now(),"
            " now() + interval '14 days', false)"
        )
        result: list[Any] = []

        def invite() -> None:
            try:
                with tenant_context(network_a):
                    result.append(
                        invitations_send(
                            actor=organiser,
                            people=[("", "race@nhs.net", ""), ("", "other@nhs.net", "")],
                        )
                    )
            except InvitationRefused as refused:
                result.append(refused)
            finally:
                connections.close_all()

        thread = threading.Thread(target=invite)
        thread.start()
        deadline = time.monotonic() + 30
        while not _waiting_on('%INSERT INTO "members_invitation"%'):
            assert time.monotonic() < deadline, "the second invitation never waited"
            time.sleep(0.05)
        other.commit()
        thread.join(timeout=30)
    finally:
        other.close()
    (refused,) = result
    assert isinstance(refused, InvitationRefused)
    assert "race@nhs.net was invited by someone else just now" in refused.message
    with tenant_context(network_a):
        assert list(Invitation.objects.values_list("email", flat=True)) == ["race@nhs.net"]
        assert not AuditEvent.objects.filter(verb="invitation.send").exists()


def _waiting_on(query_like: str) -> bool:
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            [query_like],
        )
        return cursor.fetchone() is not None

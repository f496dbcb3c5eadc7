"""Organisers are told of requests to join and of projects proposed for funding (a
notification, an email they can turn off, and an item under "Waiting for you"); people
who asked to join are told the outcome, with the organiser's reason when declined."""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.joining.services import (
    join_settings_set,
    member_approve,
    member_decline,
    member_join,
    member_verify_email,
    verification_token,
)
from core.members.models import JoinPolicy, Member, Role
from core.notifications.models import EmailPreference, Kind, Notification
from core.notifications.services import email_wanted
from core.projects.services import project_propose

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olivia Organiser", role=Role.ORGANISER)


def _asks_to_join(
    network: Network, email: str = "nia@nhs.net", full_name: str = "Nia Nowak"
) -> Member:
    with tenant_context(network):
        member = member_join(email=email, full_name=full_name, password=PASSWORD)
        assert member is not None  # a new address
        return member_verify_email(token=verification_token(member))


def _mail_to(address: str, subject: str) -> list[EmailMessage]:
    """The emails to `address` whose subject has `subject`, once at least one arrived."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if found := [m for m in mail.outbox if m.to == [address] and subject in m.subject]:
            return found
        time.sleep(0.05)
    return []


def test_organisers_are_told_of_a_request_to_join(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    plain = make_member(network_a, full_name="Pat Plain")
    boss_b = make_member(network_b, full_name="Bea Boss", role=Role.ORGANISER)
    client_a.force_login(organiser)
    assert "Nothing is waiting for you" in client_a.get("/").content.decode()
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
    nia = _asks_to_join(network_a)
    with tenant_context(network_a):
        member_verify_email(token=verification_token(nia))  # the link again: no second notice
    with tenant_context(network_a):
        told = Notification.objects.get(kind=Kind.JOIN_REQUEST)
        assert (told.recipient, told.url) == (organiser, "/members/approvals/")
        assert told.title == "Nia Nowak asked to join Network A"
        assert not Notification.objects.filter(recipient=plain).exists()
        assert email_wanted(member=organiser, kind=Kind.JOIN_REQUEST)
    with tenant_context(network_b):
        assert not Notification.objects.filter(recipient_id=boss_b.pk).exists()
    home = client_a.get("/").content.decode()
    assert "1 request to join" in home and 'href="/members/approvals/"' in home
    assert "Nothing is waiting for you" not in home
    # A member is not told; nor is the organiser of another network.
    client_a.force_login(plain)
    assert "request to join" not in client_a.get("/").content.decode()
    client_b.force_login(boss_b)
    assert "request to join" not in client_b.get("/").content.decode()
    # The organiser can turn the email off, on the settings page.
    client_a.force_login(organiser)
    settings = client_a.get("/notifications/settings/").content.decode()
    assert 'name="email_join_request"' in settings
    assert 'name="email_project_proposed"' in settings
    client_a.post("/notifications/settings/", {})
    with tenant_context(network_a):
        assert EmailPreference.objects.get(member=organiser, kind=Kind.JOIN_REQUEST).email is False
        member_approve(actor=organiser, member=nia)
    assert "request to join" not in client_a.get("/").content.decode()


def test_organisers_are_told_of_a_project_proposed(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    lead = make_member(network_a, full_name="Lena Lead", role=Role.QI_LEAD)
    boss_b = make_member(network_b, full_name="Bea Boss", role=Role.ORGANISER)
    today = timezone.localdate()
    with tenant_context(network_a):
        project = project_propose(
            actor=lead,
            title="Fewer falls",
            aim="Fewer falls by March.",
            description="PDSA cycles.",
            budget_minutes=600,
            starts_on=today,
            ends_on=today + datetime.timedelta(days=30),
        )
        told = Notification.objects.get(kind=Kind.PROJECT_PROPOSED)
        assert (told.recipient, told.url) == (organiser, f"/projects/{project.pk}/")
        assert told.title == "Lena Lead proposed “Fewer falls” for funding"
        assert not Notification.objects.filter(recipient=lead).exists()
    with tenant_context(network_b):
        assert not Notification.objects.filter(recipient_id=boss_b.pk).exists()
    client_a.force_login(organiser)
    home = client_a.get("/").content.decode()
    assert "1 project waiting for funding" in home
    assert 'href="/projects/?state=proposed"' in home
    client_a.force_login(lead)
    assert "waiting for funding" not in client_a.get("/").content.decode()


def test_an_approved_joiner_is_told(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
    nia = _asks_to_join(network_a)
    with tenant_context(network_a):
        member_approve(actor=organiser, member=nia)
        told = Notification.objects.get(recipient=nia)
        assert told.kind == Kind.ACCOUNT
        assert told.title == "Welcome to Network A: your request to join was approved"


@pytest.mark.django_db(transaction=True)
def test_a_declined_joiner_is_emailed_the_reason_and_told_it_when_signing_in(
    worker: None,
    network_a: Network,
    network_b: Network,
    organiser: Member,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
    sam = _asks_to_join(network_a, email="sam@nhs.net", full_name="Sam Singh")
    assert _mail_to(organiser.email, "Sam Singh asked to join Network A")
    with tenant_context(network_a):
        member_decline(actor=organiser, member=sam, reason="This network is for Trust staff.")
    to_sam = _mail_to("sam@nhs.net", "declined")
    assert len(to_sam) == 1
    email = to_sam[0]
    assert email.subject == "[Network A] Your request to join Network A was declined"
    assert "This network is for Trust staff." in email.body

    signing_in = client_a.post(
        "/accounts/login/", {"username": "sam@nhs.net", "password": PASSWORD}
    )
    page = signing_in.content.decode()
    assert "Your request to join Network A was declined" in page
    assert "This network is for Trust staff." in page
    assert "Please enter a correct email" not in page
    # The wrong password learns nothing about the account.
    wrong = client_a.post("/accounts/login/", {"username": "sam@nhs.net", "password": "nope"})
    assert "declined" not in wrong.content.decode()
    # Nor does the same address in another network.
    other = client_b.post("/accounts/login/", {"username": "sam@nhs.net", "password": PASSWORD})
    assert "declined" not in other.content.decode()
    with tenant_context(network_a):
        assert Member.objects.get(pk=sam.pk).is_active is False

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.joining.services import (
    join_settings_set,
    member_approve,
    member_decline,
    member_join,
    member_verify_email,
    verification_token,
)
from core.joining.tasks import member_verification_email
from core.members.models import JoinPolicy, JoinSettings, Member, MemberState, Role
from core.members.services import JoinRefused, member_set_role
from kernel.errors import PermissionDenied
from ledger.models import Transfer
from ledger.selectors import member_balance

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import DjangoCaptureOnCommitCallbacks

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olivia Organiser", role=Role.ORGANISER)


def _join(email: str = "nia@nhs.net", **fields: Any) -> Member:
    member = member_join(
        email=email,
        full_name=fields.get("full_name", "Nia Nowak"),
        password=fields.get("password", PASSWORD),
    )
    assert member is not None  # a new address
    return member


def _path_in_last_email(pattern: str) -> str:
    """The path of the link in the latest email whose path matches `pattern`."""
    found = re.search(r"https?://[^/\s]+(" + pattern + r"\S+)", str(mail.outbox[-1].body))
    assert found is not None, mail.outbox[-1].body
    return found.group(1)


def _link_from_outbox() -> str:
    return _path_in_last_email("/join/verify/")


def test_open_policy_join_sends_link_after_commit_and_verifying_gifts_once(
    network_a: Network, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    with tenant_context(network_a):
        with django_capture_on_commit_callbacks() as callbacks:
            nia = _join(email=" Nia@NHS.net ")
        assert (nia.email, nia.state, nia.can_transact) == ("nia@nhs.net", "unverified", False)
        assert len(callbacks) == 1  # the email is queued only once the member row commits
        # Run the queued task's body here (a real worker runs it in the end-to-end test).
        assert member_verification_email(schema_name=network_a.schema_name, member_id=nia.pk)
        assert mail.outbox[0].to == ["nia@nhs.net"]
        assert "network-a." in mail.outbox[0].body
        token = _link_from_outbox().rsplit("/", 2)[-2]
        verified = member_verify_email(token=token)
        assert verified.state == MemberState.ACTIVE and verified.email_verified_at is not None
        assert member_verify_email(token=token).state == MemberState.ACTIVE  # a second click
        assert member_balance(member=verified) == 120
        assert Transfer.objects.filter(kind=Transfer.Kind.GIFT).count() == 1
        # A verified member needs no more links.
        assert not member_verification_email(schema_name=network_a.schema_name, member_id=nia.pk)


def test_email_domain_policy_admits_allowed_domains_and_subdomains_only(
    network_a: Network, organiser: Member
) -> None:
    with tenant_context(network_a):
        join_settings_set(
            actor=organiser, policy="email_domain", allowed_domains=["@NHS.net", "warwick.ac.uk"]
        )
        assert JoinSettings.objects.get().allowed_domains == ["nhs.net", "warwick.ac.uk"]
        assert _join("a@nhs.net").state == MemberState.UNVERIFIED
        assert _join("b@wbs.warwick.ac.uk").email == "b@wbs.warwick.ac.uk"
        for outsider in ("c@gmail.com", "d@notnhs.net", "e@nhs.net.evil.com"):
            with pytest.raises(
                JoinRefused, match=r"open to email addresses at nhs\.net"
            ) as refused:
                _join(outsider)
            assert refused.value.field == "email"
        assert Member.objects.count() == 3  # the organiser and two joiners; no outsider


def test_approval_policy_queues_verified_members_for_an_organiser(
    network_a: Network, organiser: Member
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
        nia, sam = _join("nia@nhs.net"), _join("sam@nhs.net", full_name="Sam Singh")
        nia = member_verify_email(token=verification_token(nia))
        sam = member_verify_email(token=verification_token(sam))
        assert nia.state == MemberState.AWAITING_APPROVAL and not nia.can_transact
        assert member_balance(member=nia) == 0

        with pytest.raises(PermissionDenied):
            member_approve(actor=sam, member=nia)
        nia = member_approve(actor=organiser, member=nia)
        assert nia.state == MemberState.ACTIVE and member_balance(member=nia) == 120
        with pytest.raises(JoinRefused, match="not waiting"):
            member_approve(actor=organiser, member=nia)  # twice: no second gift
        assert member_balance(member=nia) == 120

        with pytest.raises(JoinRefused, match="give a reason"):
            member_decline(actor=organiser, member=sam, reason="  <b></b> ")
        sam = member_decline(actor=organiser, member=sam, reason="Not a member of staff here.")
        assert (sam.state, sam.is_active) == (MemberState.DECLINED, False)
        assert member_balance(member=sam) == 0
        events = list(AuditEvent.objects.order_by("pk").values_list("verb", "reason"))
        assert events[-2:] == [
            ("member.approve", ""),
            ("member.decline", "Not a member of staff here."),
        ]


def test_bad_input_is_refused_and_writes_nothing(network_a: Network, organiser: Member) -> None:
    with tenant_context(network_a):
        with pytest.raises(JoinRefused, match="open, email domain or organiser approval"):
            join_settings_set(actor=organiser, policy="invite_only")
        with pytest.raises(JoinRefused, match="at least one allowed email domain"):
            join_settings_set(actor=organiser, policy="email_domain", allowed_domains=[" "])
        with pytest.raises(JoinRefused, match="not an email domain"):
            join_settings_set(actor=organiser, policy="email_domain", allowed_domains=["nhs"])
        assert JoinSettings.objects.get_or_create(pk=1)[0].policy == JoinPolicy.OPEN
        bad = [
            ({"email": "not-an-email"}, "email"),
            ({"email": "x@nhs.net", "full_name": ""}, "full_name"),
            ({"email": "x@nhs.net", "full_name": "N" * 151}, "full_name"),
            ({"email": "x@nhs.net", "password": "password"}, "password"),
        ]
        for fields, field in bad:
            with pytest.raises(JoinRefused) as refused:
                member_join(**{"full_name": "Nia Nowak", "password": PASSWORD, **fields})
            assert refused.value.field == field, fields
        assert Member.objects.count() == 1
        for token in ("garbage", verification_token(organiser) + "x"):
            with pytest.raises(JoinRefused, match="not valid"):
                member_verify_email(token=token)


def test_a_link_made_in_one_network_verifies_nobody_in_another(
    network_a: Network, network_b: Network
) -> None:
    with tenant_context(network_a):
        nia_a = _join()
        token = verification_token(nia_a)
    with tenant_context(network_b):
        nia_b = _join()  # same address, separate membership, same primary key
        assert nia_b.pk == nia_a.pk
        with pytest.raises(JoinRefused, match="not valid here"):
            member_verify_email(token=token)
        assert Member.objects.get().state == MemberState.UNVERIFIED


def test_organisers_change_roles_audited_and_never_remove_the_last_organiser(
    network_a: Network, organiser: Member, make_member: Callable[..., Member]
) -> None:
    ben = make_member(network_a, full_name="Ben Begum")
    with tenant_context(network_a):
        with pytest.raises(PermissionDenied):
            member_set_role(actor=ben, member=ben, role=Role.ORGANISER)
        with pytest.raises(JoinRefused, match="Choose member"):
            member_set_role(actor=organiser, member=ben, role="admin")
        with pytest.raises(JoinRefused, match="at least one"):
            member_set_role(actor=organiser, member=organiser, role=Role.MEMBER)
        ben = member_set_role(actor=organiser, member=ben, role=Role.QI_LEAD)
        assert ben.role == Role.QI_LEAD and not ben.has_perm("members.change_role")
        ben = member_set_role(actor=organiser, member=ben, role=Role.ORGANISER)
        assert Member.objects.get(pk=ben.pk).has_perm("listings.moderate_listing")
        event = AuditEvent.objects.filter(verb="member.role_change").order_by("pk").last()
        assert event is not None
        assert (event.before, event.after) == ({"role": "qi_lead"}, {"role": "organiser"})
        assert AuditEvent.objects.filter(verb="member.role_change").count() == 2


def test_join_and_approval_pages(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
    page = client_a.get("/join/")
    assert b"an organiser will review" in page.content
    refused = client_a.post("/join/", {"full_name": "Nia", "email": "nia", "password": "x"})
    assert refused.status_code == 200
    assert b'class="error-summary"' in refused.content and b'href="#id_email"' in refused.content
    joined = client_a.post(
        "/join/", {"full_name": "Nia Nowak", "email": "nia@nhs.net", "password": PASSWORD}
    )
    assert joined["Location"] == "/join/check-email/"
    assert b"nia@nhs.net" in client_a.get("/join/check-email/").content
    with tenant_context(network_a):
        nia = Member.objects.get(email="nia@nhs.net")
        token = verification_token(nia)
    assert client_a.get(f"/join/verify/{token}/")["Location"] == "/accounts/login/?next=/"
    client_a.force_login(nia)
    assert client_a.get("/members/approvals/").status_code == 403  # Nia is not an organiser

    client_a.force_login(organiser)
    assert b"Nia Nowak" in client_a.get("/members/approvals/").content
    no_reason = client_a.post(f"/members/{nia.pk}/decline/", {"reason": ""})
    assert no_reason.status_code == 400 and b'href="#id_reason"' in no_reason.content
    assert client_a.post(f"/members/{nia.pk}/approve/").status_code == 302
    with tenant_context(network_a):
        assert member_balance(member=nia) == 120
    assert client_a.post(f"/members/{nia.pk}/role/", {"role": "qi_lead"}).status_code == 302
    with tenant_context(network_a):
        assert Member.objects.get(pk=nia.pk).role == Role.QI_LEAD


def test_network_b_cannot_see_or_act_on_network_a_members(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
        nia = _join("nia@nhs.net")
        member_verify_email(token=verification_token(nia))
    boss_b = make_member(network_b, full_name="Bea Boss", role=Role.ORGANISER)
    make_member(network_b, full_name="Filler")  # so ids exist in B but are not Nia
    client_b.force_login(boss_b)
    queue = client_b.get("/members/approvals/")
    assert queue.status_code == 200 and b"Nia Nowak" not in queue.content
    assert b"nhs.net" not in client_b.get("/members/roles/").content
    assert client_b.post(f"/members/{nia.pk + 10}/approve/").status_code == 404
    with tenant_context(network_a):
        assert Member.objects.get(pk=nia.pk).state == MemberState.AWAITING_APPROVAL


def test_password_reset_uses_djangos_flow(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    make_member(network_a, email="ada@nhs.net", password="old-password-77")
    assert client_a.post("/accounts/password-reset/", {"email": "ada@nhs.net"}).status_code == 302
    link = _path_in_last_email("/accounts/reset/")
    form = client_a.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client_a.post(
        form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert done["Location"] == "/accounts/reset/done/"
    assert client_a.login(username="ada@nhs.net", password=PASSWORD)


@pytest.mark.django_db(transaction=True)
def test_end_to_end_a_real_worker_emails_the_link_and_following_it_gifts(
    worker: None, network_a: Network, client_a: NetworkClient
) -> None:
    joined = client_a.post(
        "/join/", {"full_name": "Nia Nowak", "email": "nia@nhs.net", "password": PASSWORD}
    )
    assert joined.status_code == 302
    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mail.outbox[0].subject == "[Network A] Confirm your email address"
    assert client_a.get(_link_from_outbox())["Location"] == "/accounts/login/?next=/"
    signed_in = client_a.post(
        "/accounts/login/?next=/", {"username": "nia@nhs.net", "password": PASSWORD}
    )
    assert signed_in["Location"] == "/"
    assert b"You have <strong>2 hours</strong> of credit." in client_a.get("/").content
    with tenant_context(network_a):
        nia = Member.objects.get()
        assert nia.state == MemberState.ACTIVE and member_balance(member=nia) == 120


def test_login_is_throttled_per_network(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    make_member(network_a, email="sam@nhs.net", password=PASSWORD)
    make_member(network_b, email="sam@nhs.net", password=PASSWORD)
    for _ in range(5):
        client_a.post("/accounts/login/", {"username": "sam@nhs.net", "password": "wrong"})
    blocked = client_a.post("/accounts/login/", {"username": "sam@nhs.net", "password": PASSWORD})
    assert blocked.status_code == 429
    assert b"Too many attempts" in blocked.content
    # The same address in another network is not locked out.
    assert (
        client_b.post(
            "/accounts/login/", {"username": "sam@nhs.net", "password": PASSWORD}
        ).status_code
        == 302
    )


def test_joining_answers_alike_for_registered_and_new_addresses(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    """Password reset already says nothing about who is registered; joining says nothing
    either. The owner of a registered address is emailed instead."""
    from core.notifications.models import Kind, Notification
    from core.notifications.tasks import notification_email
    from tests.conftest import NetworkClient

    answers = {}
    for email in (organiser.email.upper(), "new@nhs.net"):
        client = NetworkClient(network_a)
        page = client.post(
            "/join/", {"full_name": "Nia Nowak", "email": email, "password": PASSWORD}
        )
        api = client.post(
            "/api/v1/members/join/",
            {"full_name": "Nia Nowak", "email": email, "password": PASSWORD},
            content_type="application/json",
        )
        check = client.get("/join/check-email/").content.decode().replace(email.lower(), "X")
        # Each client has its own CSRF token (the language switcher's form): not an answer.
        check = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", check)
        answers[email] = (page.status_code, page["Location"], api.status_code, api.json(), check)
    assert answers[organiser.email.upper()] == answers["new@nhs.net"]
    with tenant_context(network_a):
        assert Member.objects.filter(email__iexact=organiser.email).count() == 1
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert (
                member_join(email=organiser.email, full_name="Someone", password=PASSWORD) is None
            )
        assert len(callbacks) == 1
        told = Notification.objects.filter(recipient=organiser, kind=Kind.ACCOUNT).last()
        assert told is not None and told.email_pending  # the notification is the outbox
    assert notification_email(schema_name=network_a.schema_name, notification_id=told.pk)
    sent = mail.outbox[-1]
    assert sent.to == [organiser.email]
    assert sent.subject == "[Network A] Someone asked to join with your email address"
    # The same address is new in another network: it joins there.
    with tenant_context(network_b):
        assert member_join(email=organiser.email, full_name="Olivia", password=PASSWORD)


def test_a_verification_email_whose_message_was_lost_is_sent_by_the_sweep_once(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    """The member's row is the verification email's outbox: a message lost with the
    queue (the on-commit callbacks never run here) is queued again by the sweep after
    the grace period, and sent once however many copies arrive."""
    import datetime

    from core.joining.services import verification_resend, verifications_sweep

    elsewhere = make_member(network_b, email="lost@nhs.net", state=MemberState.UNVERIFIED)
    with tenant_context(network_b):
        Member.objects.filter(pk=elsewhere.pk).update(
            verification_pending=True,
            verification_queued_at=timezone.now() - datetime.timedelta(hours=1),
        )
    with tenant_context(network_a):
        with django_capture_on_commit_callbacks(execute=False):
            nia = _join(email="nia@nhs.net")  # its message is lost
        assert verifications_sweep(grace=datetime.timedelta(hours=1)) == 0  # not yet
        with django_capture_on_commit_callbacks(execute=False) as queued:
            assert verifications_sweep(grace=datetime.timedelta(0)) == 1  # A's only
        assert len(queued) == 1
        # Touched as it was queued: the next sweeps leave it for another grace period.
        assert verifications_sweep(grace=datetime.timedelta(minutes=5)) == 0
        # Two deliveries (the retry and the sweep's copy) send one email.
        assert member_verification_email(schema_name=network_a.schema_name, member_id=nia.pk)
        assert not member_verification_email(schema_name=network_a.schema_name, member_id=nia.pk)
        assert [m.to for m in mail.outbox] == [["nia@nhs.net"]]
        # Asking for a new link queues one more, after commit, through the same outbox.
        with django_capture_on_commit_callbacks(execute=False) as queued:
            verification_resend(actor=Member.objects.get(pk=nia.pk))
        assert len(queued) == 1
        assert member_verification_email(schema_name=network_a.schema_name, member_id=nia.pk)
        assert [m.to for m in mail.outbox] == [["nia@nhs.net"], ["nia@nhs.net"]]
    with tenant_context(network_b):
        assert Member.objects.get(pk=elsewhere.pk).verification_pending  # B's own sweep's

import re
import time

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Member
from core.members.services import (
    JoinRefused,
    join_policy_set,
    member_approve,
    member_decline,
    member_join,
    member_role_set,
    member_verify_email,
    verification_token,
)
from hexitime.errors import PermissionDenied
from ledger.models import Transfer
from ledger.selectors import member_balance
from tests.conftest import NetworkClient

PASSWORD = "a-long-passphrase-for-tests"


@pytest.fixture
def organiser(network_a, make_member):
    member = make_member(network_a, full_name="Olivia Organiser", role="organiser")
    return member


def _join(email="sam@nhs.net", **extra):
    return member_join(email=email, full_name="Sam Singh", password=PASSWORD, **extra)


def test_open_join_verifies_and_gifts_exactly_once(network_a):
    with tenant_context(network_a):
        member = _join("Sam@NHS.net")
        assert member.email == "sam@nhs.net"
        assert not member.can_transact
        assert member_balance(member=member) == 0  # no gift before verification
        token = verification_token(member)
        member_verify_email(token=token)
        member_verify_email(token=token)  # clicking the link twice is harmless
        assert member_balance(member=member) == 120
        assert Transfer.objects.filter(idempotency_key=f"gift:{member.pk}").count() == 1


def test_domain_policy_refuses_other_addresses(network_a, organiser):
    with tenant_context(network_a):
        join_policy_set(
            actor=organiser, policy="domain", allowed_domains=["nhs.net", "@Warwick.ac.uk"]
        )
        with pytest.raises(JoinRefused, match=r"ending @nhs\.net or @warwick\.ac\.uk"):
            _join("sam@gmail.com")
        assert _join("sam@nhs.net").email == "sam@nhs.net"
        assert _join("kim@wbs.warwick.ac.uk").email == "kim@wbs.warwick.ac.uk"  # subdomain
        assert not Member.objects.filter(email="sam@gmail.com").exists()
        assert AuditEvent.objects.filter(verb="join_policy.change").count() == 1


def test_approval_policy_waits_for_an_organiser(network_a, organiser):
    with tenant_context(network_a):
        join_policy_set(actor=organiser, policy="approval", allowed_domains=[])
        sam, kim = _join("sam@nhs.net"), _join("kim@nhs.net")
        member_verify_email(token=verification_token(sam))
        assert member_balance(member=sam) == 0  # verified but not yet approved
        member_approve(actor=organiser, member=sam)
        assert member_balance(member=sam) == 120
        with pytest.raises(JoinRefused, match="give a reason"):
            member_decline(actor=organiser, member=kim, reason=" ")
        member_decline(actor=organiser, member=kim, reason="Not part of our ICS")
        assert Member.objects.get(pk=kim.pk).decline_reason == "Not part of our ICS"
        verbs = set(AuditEvent.objects.values_list("verb", flat=True))
        assert {"member.approve", "member.decline"} <= verbs
        with pytest.raises(PermissionDenied):
            member_approve(actor=sam, member=kim)  # members cannot approve


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-address"}, "Enter an email address"),
        ({"password": "123"}, "too short"),
        ({"full_name": ""}, "Enter your name"),
    ],
)
def test_bad_sign_ups_are_refused_and_nothing_is_created(network_a, fields, message):
    with tenant_context(network_a), pytest.raises(JoinRefused, match=message):
        member_join(**{"email": "sam@nhs.net", "full_name": "Sam", "password": PASSWORD, **fields})
    with tenant_context(network_a):
        assert not Member.objects.exists()


def test_a_second_account_for_the_same_address_is_refused(network_a):
    with tenant_context(network_a):
        _join("sam@nhs.net")
        with pytest.raises(JoinRefused, match="already exists"):
            _join("SAM@nhs.net")


def test_a_verification_link_from_one_network_does_not_work_in_another(network_a, network_b):
    with tenant_context(network_a):
        token = verification_token(_join())
    with tenant_context(network_b), pytest.raises(JoinRefused, match="different network"):
        member_verify_email(token=token)
    with tenant_context(network_a), pytest.raises(JoinRefused, match="not valid"):
        member_verify_email(token=token[:-3] + "abc")


def test_roles_change_permissions_and_are_audited(network_a, organiser, make_member):
    ben = make_member(network_a)
    with tenant_context(network_a):
        member_role_set(actor=organiser, member=ben, role="organiser")
        ben = Member.objects.get(pk=ben.pk)
        assert ben.has_perm("ledger.view_network_totals")
        member_role_set(actor=ben, member=ben, role="member")
        ben = Member.objects.get(pk=ben.pk)
        assert not ben.has_perm("ledger.view_network_totals")
        with pytest.raises(JoinRefused, match="at least one organiser"):
            member_role_set(actor=organiser, member=organiser, role="member")
        assert AuditEvent.objects.filter(verb="member.role_change").count() == 2


def test_unverified_members_browse_but_cannot_post(network_a, client_a):
    with tenant_context(network_a):
        sam = _join()
    client_a.force_login(sam)
    assert client_a.get("/listings/").status_code == 200
    listing = {"kind": "offer", "title": "Coaching", "description": "d", "category": "coaching"}
    response = client_a.post("/api/v1/listings/", listing, content_type="application/json")
    assert response.status_code == 403
    assert "confirm your email address" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_signing_up_on_the_page_emails_a_link_that_verifies(worker, network_a):
    client = NetworkClient(network_a)
    response = client.post("/join/", {"full_name": "Sam Singh", "email": "sam@nhs.net",
                                      "password": PASSWORD, "profession": "nurse"})  # fmt: skip
    assert b"Check your email" in response.content
    deadline = time.monotonic() + 20
    while not mail.outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.to for m in mail.outbox] == [["sam@nhs.net"]]
    found = re.search(r"https?://[^/]+(/join/verify/[^/]+/)", str(mail.outbox[0].body))
    assert found, mail.outbox[0].body
    link = found.group(1)
    assert client.get(link).status_code == 302
    with tenant_context(network_a):
        member = Member.objects.get(email="sam@nhs.net")
        assert member.email_verified_at is not None and member.email_verified_at <= timezone.now()
        assert member_balance(member=member) == 120


def test_login_is_throttled_per_network(network_a, network_b, make_member, client_a, client_b):
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

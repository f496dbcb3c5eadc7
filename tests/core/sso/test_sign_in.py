"""Signing in through a network's OpenID Connect provider, against a real provider
(oidc_provider.py) over HTTP: the authorisation code flow with PKCE, state and nonce, the
id token's signature and audience, joining under the network's policy with the welcome
gift exactly once, and one network's provider signing nobody into another."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.joining.services import join_settings_set
from core.members.models import JoinPolicy, Member, MemberState, Role
from core.members.services import member_deactivate
from core.sso.models import SsoIdentity
from ledger.models import Transfer
from ledger.selectors import member_balance
from tests.conftest import NetworkClient

from .conftest import connect, provider_signs_in

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client
    from pytest_django import DjangoCaptureOnCommitCallbacks

    from tenants.models import Network
    from tests.core.sso.conftest import Provider

PASSWORD = "kindly-staple-49"


@pytest.fixture
def organiser_a(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email="olivia@network-a.example", role=Role.ORGANISER)


@pytest.fixture
def open_a(network_a: Network, organiser_a: Member) -> Network:
    with tenant_context(network_a):
        join_settings_set(actor=organiser_a, policy=JoinPolicy.OPEN)
    return network_a


def _tamper_state(client: NetworkClient, state: str, **changes: str) -> None:
    with tenant_context(client.network):
        session = client.session
        key = f"_state_sso_{state}"
        entry = session[key]
        entry["data"].update(changes)
        session[key] = entry
        session.save()


def _signed_in_as(client: NetworkClient) -> Member | None:
    with tenant_context(client.network):
        response = client.get("/api/v1/members/me/")
    if response.status_code != 200:
        return None
    with tenant_context(client.network):
        return Member.objects.get(pk=response.json()["id"])


def test_code_flow_with_pkce_joins_once_with_the_welcome_gift(
    open_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    connect(open_a, provider, organiser_a, client_id="flow-a")
    provider.person("alice", email="Alice@Network-A.example")
    callback, authorization = provider_signs_in(client_a, "alice")
    # The request carried PKCE (S256), a state and a nonce; the client holds the verifier.
    assert authorization["code_challenge_method"] == "S256"
    assert len(authorization["code_challenge"]) >= 43
    assert authorization["state"] and authorization["nonce"]
    assert authorization["response_type"] == "code"
    answer = client_a.get(callback)
    assert answer.status_code == 302, answer.content.decode()
    assert answer["Location"] == "/"
    alice = _signed_in_as(client_a)
    assert alice is not None and alice.email == "alice@network-a.example"
    with tenant_context(open_a):
        assert alice.state == MemberState.ACTIVE and alice.email_verified_at is not None
        assert not alice.has_usable_password()
        assert member_balance(member=alice) == 120
        assert SsoIdentity.objects.get(member=alice).subject == "sub-alice"
    # Signing in again signs in the same member and gifts nothing more.
    client_a.logout()
    callback, _ = provider_signs_in(client_a, "alice")
    assert client_a.get(callback).status_code == 302
    assert _signed_in_as(client_a) == alice
    with tenant_context(open_a):
        assert Member.objects.filter(email="alice@network-a.example").count() == 1
        assert Transfer.objects.filter(kind=Transfer.Kind.GIFT).count() == 1
        assert member_balance(member=alice) == 120
        assert AuditEvent.objects.filter(verb="sso.link").count() == 1


def test_the_provider_refuses_a_code_without_the_right_pkce_verifier(
    open_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    connect(open_a, provider, organiser_a, client_id="pkce-a")
    provider.person("bob", email="bob@network-a.example")
    callback, authorization = provider_signs_in(client_a, "bob")
    _tamper_state(client_a, authorization["state"], code_verifier="x" * 48)
    answer = client_a.get(callback)
    assert answer.status_code == 400
    assert "did not sign you in" in answer.content.decode()
    assert _signed_in_as(client_a) is None
    with tenant_context(open_a):
        assert not Member.objects.filter(email="bob@network-a.example").exists()


def test_a_callback_with_another_or_a_used_state_is_refused(
    open_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    connect(open_a, provider, organiser_a, client_id="state-a")
    provider.person("carol", email="carol@network-a.example")
    callback, authorization = provider_signs_in(client_a, "carol")
    forged = callback.replace(f"state={authorization['state']}", "state=forged")
    refused = client_a.get(forged)
    assert refused.status_code == 400
    assert "another browser tab" in refused.content.decode()
    assert client_a.get(callback).status_code == 302  # the real one still works, once
    client_a.logout()
    assert client_a.get(callback).status_code == 400
    assert _signed_in_as(client_a) is None


def test_an_id_token_with_another_nonce_is_refused(
    open_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    connect(open_a, provider, organiser_a, client_id="nonce-a")
    provider.person("dan", email="dan@network-a.example")
    callback, authorization = provider_signs_in(client_a, "dan")
    _tamper_state(client_a, authorization["state"], nonce="not-the-nonce-sent")
    answer = client_a.get(callback)
    assert answer.status_code == 400
    assert "does not belong to this sign-in" in answer.content.decode()
    with tenant_context(open_a):
        assert not Member.objects.filter(email="dan@network-a.example").exists()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("bad_signature", "was not signed with its keys"),
        ("wrong_audience", "was meant for another application"),
    ],
)
def test_an_id_token_badly_signed_or_for_another_audience_is_refused(
    open_a: Network,
    organiser_a: Member,
    provider: Provider,
    client_a: NetworkClient,
    mode: str,
    message: str,
) -> None:
    connect(open_a, provider, organiser_a, client_id=f"{mode}-a")
    provider.person("erin", email="erin@network-a.example")
    callback, _ = provider_signs_in(client_a, "erin")
    provider.control(id_token=mode)
    answer = client_a.get(callback)
    assert answer.status_code == 400
    assert message in answer.content.decode(), answer.content.decode()
    assert _signed_in_as(client_a) is None
    with tenant_context(open_a):
        assert not Member.objects.filter(email="erin@network-a.example").exists()
        assert not Transfer.objects.filter(kind=Transfer.Kind.GIFT).exists()


def test_network_a_provider_signs_nobody_into_network_b(
    open_a: Network,
    organiser_a: Member,
    network_b: Network,
    make_member: Callable[..., Member],
    provider: Provider,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    connect(open_a, provider, organiser_a, client_id="iso-a")
    provider.person("fay", email="fay@network-a.example")
    # B has no provider: no sign-in through one, and no button for it.
    assert client_b.get("/sso/start/").status_code == 404
    assert "Sign in with" not in client_b.get("/accounts/login/").content.decode()
    # A's answer carried to B is refused there, and signs nobody in.
    callback, _ = provider_signs_in(client_a, "fay")
    assert client_b.get(callback).status_code == 404
    # B connected to the same provider as another client: A's answer still fails in B
    # (its state belongs to A's session), and signs nobody into B.
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    connect(network_b, provider, organiser_b, client_id="iso-b")
    assert client_b.get(callback).status_code == 400
    assert _signed_in_as(client_b) is None
    with tenant_context(network_b):
        assert not Member.objects.filter(email="fay@network-a.example").exists()
    assert client_a.get(callback).status_code == 302
    assert _signed_in_as(client_a) is not None
    assert _signed_in_as(client_b) is None


def test_the_join_policy_applies_to_sign_in(
    network_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        join_settings_set(
            actor=organiser_a, policy=JoinPolicy.EMAIL_DOMAIN, allowed_domains=["nhs.net"]
        )
    connect(network_a, provider, organiser_a, client_id="policy-a")
    provider.person("gus", email="gus@elsewhere.example")
    callback, _ = provider_signs_in(client_a, "gus")
    answer = client_a.get(callback)
    assert answer.status_code == 403
    assert "open to email addresses at nhs.net" in answer.content.decode()
    with tenant_context(network_a):
        assert not Member.objects.filter(email="gus@elsewhere.example").exists()
        # Under the approval policy a confirmed address joins the organisers' queue.
        join_settings_set(actor=organiser_a, policy=JoinPolicy.APPROVAL)
    callback, _ = provider_signs_in(client_a, "gus")
    assert client_a.get(callback).status_code == 302
    with tenant_context(network_a):
        gus = Member.objects.get(email="gus@elsewhere.example")
        assert gus.state == MemberState.AWAITING_APPROVAL and member_balance(member=gus) == 0


def test_an_address_the_provider_does_not_confirm_needs_the_emailed_link(
    open_a: Network,
    organiser_a: Member,
    make_member: Callable[..., Member],
    provider: Provider,
    client_a: NetworkClient,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    connect(open_a, provider, organiser_a, client_id="unconfirmed-a")
    provider.person("hal", email="hal@network-a.example", verified=False)
    callback, _ = provider_signs_in(client_a, "hal")
    with django_capture_on_commit_callbacks() as queued:
        answer = client_a.get(callback)
    assert answer.status_code == 302 and answer["Location"] == "/join/check-email/"
    assert len(queued) == 1  # the verification email
    with tenant_context(open_a):
        hal = Member.objects.get(email="hal@network-a.example")
        assert hal.state == MemberState.UNVERIFIED and member_balance(member=hal) == 0
    client_a.logout()
    # An existing account is never handed over on an unconfirmed address.
    make_member(open_a, email="ida@network-a.example", password=PASSWORD)
    provider.person("ida", email="ida@network-a.example", verified=False)
    callback, _ = provider_signs_in(client_a, "ida")
    answer = client_a.get(callback)
    assert answer.status_code == 403 and "did not confirm" in answer.content.decode()
    with tenant_context(open_a):
        assert not SsoIdentity.objects.filter(subject="sub-ida").exists()
    # Confirmed, the same address is linked to the existing account.
    provider.person("ida", email="ida@network-a.example", verified=True)
    callback, _ = provider_signs_in(client_a, "ida")
    assert client_a.get(callback).status_code == 302
    with tenant_context(open_a):
        assert SsoIdentity.objects.get(subject="sub-ida").member.email == "ida@network-a.example"
        assert Member.objects.filter(email="ida@network-a.example").count() == 1


def test_a_deactivated_member_cannot_sign_in_through_the_provider(
    open_a: Network, organiser_a: Member, provider: Provider, client_a: NetworkClient
) -> None:
    connect(open_a, provider, organiser_a, client_id="stopped-a")
    provider.person("jo", email="jo@network-a.example")
    callback, _ = provider_signs_in(client_a, "jo")
    assert client_a.get(callback).status_code == 302
    client_a.logout()
    with tenant_context(open_a):
        jo = Member.objects.get(email="jo@network-a.example")
        member_deactivate(actor=organiser_a, member=jo)
    callback, _ = provider_signs_in(client_a, "jo")
    answer = client_a.get(callback)
    assert answer.status_code == 403 and "stopped" in answer.content.decode()
    assert _signed_in_as(client_a) is None


def test_with_password_sign_in_off_the_page_offers_only_sso_and_the_form_refuses(
    open_a: Network,
    organiser_a: Member,
    make_member: Callable[..., Member],
    provider: Provider,
    client_a: NetworkClient,
    public_client: Client,
) -> None:
    make_member(open_a, email="kim@network-a.example", password=PASSWORD)
    connect(open_a, provider, organiser_a, client_id="nopw-a", password_sign_in=False)
    page = client_a.get("/accounts/login/").content.decode()
    assert "Sign in with Test ID" in page and 'type="password"' not in page
    credentials = {"username": "kim@network-a.example", "password": PASSWORD}
    refused = client_a.post("/accounts/login/", credentials)
    assert refused.status_code == 200
    assert "does not use passwords: sign in with Test ID" in refused.content.decode()
    joined = client_a.post(
        "/api/v1/members/join/",
        {
            "email": "new@network-a.example",
            "full_name": "New",
            "password": PASSWORD,
        },
    )
    assert joined.status_code == 400
    assert _signed_in_as(client_a) is None
    with tenant_context(open_a):
        assert not Member.objects.filter(email="new@network-a.example").exists()
    # Staff sign in on the public site as before.
    assert public_client.get("/console/login/").status_code == 200

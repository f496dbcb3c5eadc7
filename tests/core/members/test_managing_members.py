"""Organisers manage their members: the approval queue says who is asking (profession,
organisation), the members page searches, and a member can be deactivated (data and
ledger kept; sign-in refused with a clear message) and reactivated."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.joining.services import (
    join_settings_set,
    member_join,
    member_verify_email,
    verification_token,
)
from core.members.models import JoinPolicy, Member, MemberState, Role
from core.members.services import JoinRefused, member_deactivate, member_reactivate
from kernel.errors import PermissionDenied
from ledger.selectors import member_balance
from ledger.services import gift_grant

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olivia Organiser", role=Role.ORGANISER)


def test_joining_asks_profession_and_organisation_and_the_queue_shows_them(
    network_a: Network, organiser: Member, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        join_settings_set(actor=organiser, policy=JoinPolicy.APPROVAL)
    joined = client_a.post(
        "/join/",
        {
            "full_name": "Nia Nowak",
            "email": "nia@nhs.net",
            "password": PASSWORD,
            "profession": "midwife",
            "organisation": "St Elsewhere NHS Trust",
        },
    )
    assert joined.status_code == 302
    with tenant_context(network_a):
        nia = Member.objects.get(email="nia@nhs.net")
        assert (nia.profession, nia.organisation) == ("midwife", "St Elsewhere NHS Trust")
        member_verify_email(token=verification_token(nia))
    client_a.force_login(organiser)
    queue = client_a.get("/members/approvals/").content.decode()
    assert "Midwife" in queue and "St Elsewhere NHS Trust" in queue
    with tenant_context(network_a):
        # Both are optional, and an unknown profession is refused.
        assert member_join(email="ola@nhs.net", full_name="Ola", password=PASSWORD) is not None
        with pytest.raises(JoinRefused):
            member_join(
                email="pat@nhs.net", full_name="Pat", password=PASSWORD, profession="wizard"
            )
        assert not Member.objects.filter(email="pat@nhs.net").exists()


def test_the_members_page_searches_by_name_email_and_organisation(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    make_member(
        network_a,
        full_name="Ada Lovelace",
        email="ada@trust.example",
        organisation="Analytical Trust",
    )
    make_member(network_a, full_name="Brian Bell", email="brian@other.example")
    make_member(network_b, full_name="Ada Byron", email="byron@b.example")
    client_a.force_login(organiser)
    for query in ("lovelace", "ADA@trust", "analytical"):
        page = client_a.get("/members/roles/", {"q": query}).content.decode()
        assert "Ada Lovelace" in page and "Brian Bell" not in page, query
        assert "Ada Byron" not in page
    page = client_a.get("/members/roles/", {"q": "nobody-like-this"}).content.decode()
    assert "No members match" in page
    assert "Brian Bell" in client_a.get("/members/roles/").content.decode()
    # An organiser of B searching finds only B's members.
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    page_b = client_b.get("/members/roles/", {"q": "ada"}).content.decode()
    assert "Ada Byron" in page_b and "Ada Lovelace" not in page_b


def test_a_deactivated_member_keeps_data_and_credit_and_is_told_when_signing_in(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    ada = make_member(
        network_a,
        full_name="Ada Lovelace",
        email="ada@nhs.net",
        password=PASSWORD,
        organisation="Analytical Trust",
    )
    make_member(network_b, email="ada@nhs.net", password=PASSWORD)
    with tenant_context(network_a):
        gift_grant(member=ada)
    client_a.force_login(ada)
    assert client_a.get("/ledger/statement/").status_code == 200

    organiser_client = type(client_a)(network_a)
    organiser_client.force_login(organiser)
    response = organiser_client.post(f"/members/{ada.pk}/deactivate/")
    assert response.status_code == 302
    with tenant_context(network_a):
        ada.refresh_from_db()
        assert (ada.state, ada.is_active) == (MemberState.DEACTIVATED, False)
        assert ada.organisation == "Analytical Trust"
        assert member_balance(member=ada) == 120
        event = AuditEvent.objects.get(verb="member.deactivate")
        assert (event.actor_id, event.target_id) == (organiser.pk, str(ada.pk))
    # Their session ends, and signing in says why (only with their own password).
    assert client_a.get("/ledger/statement/").status_code == 302
    page = client_a.post("/accounts/login/", {"username": "ada@nhs.net", "password": PASSWORD})
    text = page.content.decode()
    assert "Your account in Network A has been deactivated by an organiser" in text
    wrong = client_a.post("/accounts/login/", {"username": "ada@nhs.net", "password": "nope"})
    assert "deactivated" not in wrong.content.decode()
    # The same address in network B signs in as ever.
    assert client_b.login(username="ada@nhs.net", password=PASSWORD)
    listed = organiser_client.get("/members/roles/").content.decode()
    assert "Ada Lovelace" in listed and "Deactivated" in listed

    assert organiser_client.post(f"/members/{ada.pk}/reactivate/").status_code == 302
    with tenant_context(network_a):
        ada.refresh_from_db()
        assert (ada.state, ada.is_active) == (MemberState.ACTIVE, True)
        assert member_balance(member=ada) == 120  # no second welcome gift
        assert AuditEvent.objects.filter(verb="member.reactivate").count() == 1
    assert client_a.login(username="ada@nhs.net", password=PASSWORD)


def test_only_organisers_of_the_network_deactivate_and_never_themselves(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    ada = make_member(network_a, full_name="Ada Lovelace")
    bob = make_member(network_a, full_name="Bob Member")
    with tenant_context(network_a):
        with pytest.raises(PermissionDenied):
            member_deactivate(actor=bob, member=ada)
        with pytest.raises(JoinRefused, match="yourself"):
            member_deactivate(actor=organiser, member=organiser)
        with pytest.raises(JoinRefused, match="not deactivated"):
            member_reactivate(actor=organiser, member=ada)
    client_a.force_login(bob)
    assert client_a.post(f"/members/{ada.pk}/deactivate/").status_code == 403
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    make_member(network_b)
    client_b.force_login(organiser_b)
    assert client_b.post(f"/members/{ada.pk + 10}/deactivate/").status_code == 404
    with tenant_context(network_a):
        assert Member.objects.get(pk=ada.pk).state == MemberState.ACTIVE
        assert not AuditEvent.objects.filter(verb="member.deactivate").exists()

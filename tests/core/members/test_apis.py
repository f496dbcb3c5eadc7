from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.joining.services import join_settings_set, verification_token
from core.members.models import JoinPolicy, Member, MemberState, Role
from ledger.selectors import member_balance

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import DjangoAssertNumQueries

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


def test_join_verify_and_profile_through_the_api(
    network_a: Network, client_a: NetworkClient
) -> None:
    joined = client_a.post(
        "/api/v1/members/join/",
        {"email": "Nia@nhs.net", "full_name": "Nia Nowak", "password": PASSWORD},
        content_type="application/json",
    )
    assert joined.status_code == 202, joined.content
    again = client_a.post(
        "/api/v1/members/join/",
        {"email": "nia@nhs.net", "full_name": "N", "password": PASSWORD},
        content_type="application/json",
    )
    # The same answer for an address already registered: nothing tells a caller who is.
    assert (again.status_code, again.json()) == (202, joined.json())
    with tenant_context(network_a):
        nia = Member.objects.get()
        token = verification_token(nia)
    bad = client_a.post("/api/v1/members/verify/", {"token": "nope"}, "application/json")
    assert bad.status_code == 400
    verified = client_a.post("/api/v1/members/verify/", {"token": token}, "application/json")
    assert verified.json()["state"] == "active"
    with tenant_context(network_a):
        assert member_balance(member=nia) == 120

    client_a.force_login(nia)
    refused = client_a.patch(
        "/api/v1/members/me/", {"bio": "<script>x</script>"}, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["field"] == "bio"
    updated = client_a.patch(
        "/api/v1/members/me/",
        {"profession": "midwife", "skills": ["Coaching"], "profile_visibility": "name_only"},
        content_type="application/json",
    )
    assert updated.status_code == 200
    assert updated.json()["skills"] == ["coaching"]
    assert client_a.get("/api/v1/members/me/").json()["profession"] == "midwife"


def test_organisers_approve_and_change_roles_through_the_api(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    boss = make_member(network_a, role=Role.ORGANISER)
    ben = make_member(network_a, full_name="Ben Begum")
    with tenant_context(network_a):
        join_settings_set(actor=boss, policy=JoinPolicy.APPROVAL)
    client_a.post(
        "/api/v1/members/join/",
        {"email": "nia@nhs.net", "full_name": "Nia Nowak", "password": PASSWORD},
        content_type="application/json",
    )
    with tenant_context(network_a):
        nia = Member.objects.get(email="nia@nhs.net")
        token = verification_token(nia)
    client_a.post("/api/v1/members/verify/", {"token": token}, "application/json")

    client_a.force_login(ben)
    assert client_a.get("/api/v1/members/approvals/").status_code == 403
    assert client_a.post(f"/api/v1/members/{nia.pk}/approve/").status_code == 403
    client_a.force_login(boss)
    assert [m["email"] for m in client_a.get("/api/v1/members/approvals/").json()] == [nia.email]
    assert client_a.post(f"/api/v1/members/{nia.pk}/approve/").json()["state"] == "active"
    bad_role = client_a.post(
        f"/api/v1/members/{ben.pk}/role/", {"role": "king"}, "application/json"
    )
    assert bad_role.status_code == 400
    role = client_a.post(f"/api/v1/members/{ben.pk}/role/", {"role": "qi_lead"}, "application/json")
    assert role.json()["role"] == "qi_lead"
    with tenant_context(network_a):
        assert (
            AuditEvent.objects.filter(verb__in=["member.approve", "member.role_change"]).count()
            == 2
        )


def test_network_b_cannot_read_or_change_network_a_members_by_id(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    make_member(network_a)
    priya = make_member(network_a, full_name="Priya Patel")
    boss_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(boss_b)
    assert priya.pk != boss_b.pk
    assert client_b.get(f"/api/v1/members/{priya.pk}/").status_code == 404
    assert (
        client_b.post(
            f"/api/v1/members/{priya.pk}/role/", {"role": "organiser"}, "application/json"
        ).status_code
        == 404
    )
    with tenant_context(network_a):
        assert Member.objects.get(pk=priya.pk).role == Role.MEMBER


def test_hidden_profile_fields_are_null_for_other_members(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    priya = make_member(
        network_a, bio="Private bio", profile_visibility="name_only", profession="pharmacist"
    )
    ben = make_member(network_a)
    client_a.force_login(ben)
    seen = client_a.get(f"/api/v1/members/{priya.pk}/").json()
    assert seen["profession"] == "pharmacist" and seen["bio"] is None and seen["skills"] is None


def test_approval_queue_query_count_does_not_grow_with_the_queue(
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    boss = make_member(network_a, role=Role.ORGANISER)
    for n in range(12):
        make_member(network_a, state=MemberState.AWAITING_APPROVAL, email=f"p{n}@nhs.net")
    client_a.force_login(boss)
    # Tenant, session, member and permission lookups plus one query for the queue, however
    # long it is (an N+1 would add twelve).
    with django_assert_max_num_queries(8):
        queue = client_a.get("/api/v1/members/approvals/")
    assert len(queue.json()) == 12

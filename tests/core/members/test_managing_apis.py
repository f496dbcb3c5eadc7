"""The API of inviting people and managing members: what the pages do, for organisers
only, in their own network only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.joining.services import invitation_token
from core.members.models import Invitation, Member, MemberState, Role

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"


def test_organisers_invite_resend_and_revoke_through_the_api(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    organiser = make_member(network_a, role=Role.ORGANISER)
    make_member(network_a, email="already@nhs.net")
    client_a.force_login(organiser)
    bad = client_a.post(
        "/api/v1/members/invitations/",
        {"people": [{"email": "nia@nhs.net"}, {"email": "nope", "name": "X"}]},
        "application/json",
    )
    assert bad.status_code == 400 and "“nope” is not an email address" in bad.json()["detail"]
    sent = client_a.post(
        "/api/v1/members/invitations/",
        {
            "people": [
                {"email": "nia@nhs.net", "name": "Nia Nowak", "role": "qi_lead"},
                {"email": "already@nhs.net"},
            ]
        },
        "application/json",
    )
    assert sent.status_code == 201, sent.content
    body = sent.json()
    assert [i["email"] for i in body["invited"]] == ["nia@nhs.net"]
    assert body["invited"][0]["role"] == "qi_lead" and body["already_members"] == [
        "already@nhs.net"
    ]
    listed = client_a.get("/api/v1/members/invitations/").json()
    assert [i["email"] for i in listed] == ["nia@nhs.net"]
    invitation_id = listed[0]["id"]
    resent = client_a.post(f"/api/v1/members/invitations/{invitation_id}/resend/")
    assert resent.status_code == 200 and resent.json()["email"] == "nia@nhs.net"

    # Another network's organiser neither sees nor changes it; a member is refused.
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(organiser_b)
    assert client_b.get("/api/v1/members/invitations/").json() == []
    assert client_b.delete(f"/api/v1/members/invitations/{invitation_id}/").status_code == 404
    member = make_member(network_a)
    member_client = type(client_a)(network_a)
    member_client.force_login(member)
    assert member_client.get("/api/v1/members/invitations/").status_code == 403
    assert member_client.delete(f"/api/v1/members/invitations/{invitation_id}/").status_code == 403

    with tenant_context(network_a):
        token = invitation_token(Invitation.objects.get())
    assert client_a.delete(f"/api/v1/members/invitations/{invitation_id}/").status_code == 204
    client_a.logout()
    gone = client_a.post(
        "/api/v1/members/join/invited/",
        {"token": token, "full_name": "Nia", "password": PASSWORD},
        "application/json",
    )
    assert gone.status_code == 400 and "no longer valid" in gone.json()["detail"]


def test_an_invited_person_joins_through_the_api_in_one_step(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    organiser = make_member(network_a, role=Role.ORGANISER)
    client_a.force_login(organiser)
    client_a.post(
        "/api/v1/members/invitations/", {"people": [{"email": "ola@nhs.net"}]}, "application/json"
    )
    with tenant_context(network_a):
        token = invitation_token(Invitation.objects.get())
    client_a.logout()
    elsewhere = client_b.post(
        "/api/v1/members/join/invited/",
        {"token": token, "full_name": "Ola", "password": PASSWORD},
        "application/json",
    )
    assert elsewhere.status_code == 400
    accept = {"token": token, "full_name": "Ola Okafor", "password": PASSWORD}
    joined = client_a.post("/api/v1/members/join/invited/", accept, "application/json")
    assert joined.status_code == 201, joined.content
    assert (joined.json()["state"], joined.json()["role"]) == ("active", "member")
    with tenant_context(network_b):
        assert not Member.objects.filter(email="ola@nhs.net").exists()


def test_organisers_deactivate_and_reactivate_through_the_api_and_the_queue_shows_who(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    organiser = make_member(network_a, role=Role.ORGANISER)
    ada = make_member(network_a, organisation="Analytical Trust", profession="nurse")
    client_a.force_login(organiser)
    off = client_a.post(
        f"/api/v1/members/{ada.pk}/deactivate/", {"reason": "Left the Trust"}, "application/json"
    )
    assert off.status_code == 200 and off.json()["state"] == "deactivated"
    again = client_a.post(f"/api/v1/members/{ada.pk}/deactivate/")
    assert again.status_code == 400
    organiser_b = make_member(network_b, role=Role.ORGANISER)
    make_member(network_b)
    client_b.force_login(organiser_b)
    assert client_b.post(f"/api/v1/members/{ada.pk + 10}/reactivate/").status_code == 404
    on = client_a.post(f"/api/v1/members/{ada.pk}/reactivate/")
    assert on.status_code == 200 and on.json()["state"] == "active"
    with tenant_context(network_a):
        assert Member.objects.get(pk=ada.pk).state == MemberState.ACTIVE
        Member.objects.filter(pk=ada.pk).update(state=MemberState.AWAITING_APPROVAL)
    queue = client_a.get("/api/v1/members/approvals/").json()
    assert [(p["profession"], p["organisation"]) for p in queue] == [("nurse", "Analytical Trust")]

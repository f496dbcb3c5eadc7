import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Member
from core.members.services import join_policy_set, member_verify_email, verification_token
from ledger.models import Transfer
from ledger.selectors import member_balance

PASSWORD = "a-long-passphrase-for-tests"


@pytest.fixture
def organiser(network_a, make_member):
    return make_member(network_a, full_name="Olivia Organiser", role="organiser")


def _join(client, email, **extra):
    return client.post(
        "/api/v1/members/join/",
        {"email": email, "full_name": "Sam Singh", "password": PASSWORD, **extra},
        content_type="application/json",
    )


def test_join_api_follows_each_policy(network_a, organiser, client_a):
    assert _join(client_a, "open@gmail.com").json()["approval"] == "approved"
    with tenant_context(network_a):
        join_policy_set(actor=organiser, policy="domain", allowed_domains=["nhs.net"])
    refused = _join(client_a, "kim@gmail.com")
    assert refused.status_code == 400 and "@nhs.net" in refused.content.decode()
    assert _join(client_a, "kim@nhs.net").status_code == 201
    with tenant_context(network_a):
        join_policy_set(actor=organiser, policy="approval", allowed_domains=[])
    assert _join(client_a, "lee@gmail.com").json()["approval"] == "pending"
    with tenant_context(network_a):
        assert not Member.objects.filter(email="kim@gmail.com").exists()


def test_organiser_approves_through_the_api_and_the_gift_comes_once(network_a, organiser, client_a):
    with tenant_context(network_a):
        join_policy_set(actor=organiser, policy="approval", allowed_domains=[])
    sam_id = _join(client_a, "sam@nhs.net").json()["id"]
    _join(client_a, "kim@nhs.net")
    client_a.force_login(organiser)
    pending = client_a.get("/api/v1/members/pending/").json()
    assert [p["email"] for p in pending] == ["sam@nhs.net", "kim@nhs.net"]
    with tenant_context(network_a):
        member_verify_email(token=verification_token(Member.objects.get(pk=sam_id)))
    for _ in range(2):  # approving twice (a double click) gifts once
        response = client_a.post(f"/api/v1/members/{sam_id}/approve/")
        assert response.status_code == 200 and response.json()["approval"] == "approved"
    with tenant_context(network_a):
        sam = Member.objects.get(pk=sam_id)
        assert member_balance(member=sam) == 120
        assert Transfer.objects.filter(idempotency_key=f"gift:{sam_id}").count() == 1
    kim_id = pending[1]["id"]
    no_reason = client_a.post(f"/api/v1/members/{kim_id}/decline/", {"reason": " "},
                              content_type="application/json")  # fmt: skip
    assert no_reason.status_code == 400
    declined = client_a.post(f"/api/v1/members/{kim_id}/decline/", {"reason": "Not in our ICS"},
                             content_type="application/json")  # fmt: skip
    assert declined.json()["decline_reason"] == "Not in our ICS"


def test_roles_through_the_api_are_audited_and_organiser_only(
    network_a, organiser, make_member, client_a
):
    ben = make_member(network_a, full_name="Ben Begum")
    client_a.force_login(ben)
    assert client_a.post(f"/api/v1/members/{organiser.pk}/role/", {"role": "member"},
                         content_type="application/json").status_code == 403  # fmt: skip
    assert client_a.get("/api/v1/members/pending/").status_code == 403
    client_a.force_login(organiser)
    bad = client_a.post(f"/api/v1/members/{ben.pk}/role/", {"role": "emperor"},
                        content_type="application/json")  # fmt: skip
    assert bad.status_code == 400
    made = client_a.post(f"/api/v1/members/{ben.pk}/role/", {"role": "qi_lead"},
                         content_type="application/json")  # fmt: skip
    assert made.json()["role"] == "qi_lead"
    with tenant_context(network_a):
        event = AuditEvent.objects.get(verb="member.role_change")
        assert (event.before, event.after) == ({"role": "member"}, {"role": "qi_lead"})


def test_an_organiser_of_b_cannot_act_on_members_of_a(
    network_a, network_b, organiser, make_member, client_b
):
    carol = make_member(network_a, full_name="Carol in A", approval="pending")
    b_organiser = make_member(network_b, full_name="Bea Organiser", role="organiser")
    assert carol.pk != b_organiser.pk
    client_b.force_login(b_organiser)
    for action in ("approve", "role"):
        response = client_b.post(f"/api/v1/members/{carol.pk}/{action}/", {"role": "organiser"},
                                 content_type="application/json")  # fmt: skip
        assert response.status_code == 404
    assert client_b.get("/api/v1/members/pending/").json() == []
    with tenant_context(network_a):
        assert Member.objects.get(pk=carol.pk).approval == "pending"


def test_the_api_schema_documents_the_member_endpoints(network_a, organiser, client_a):
    client_a.force_login(organiser)
    schema = client_a.get("/api/v1/schema/")
    assert schema.status_code == 200
    for path in (
        "/api/v1/members/me/",
        "/api/v1/members/join/",
        "/api/v1/members/{member_id}/role/",
    ):
        assert path in schema.content.decode()

"""A member's own equality answers: consent, changing, withdrawing, and nobody else
seeing them (other members, organisers, another network, the API, exports)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.insights.models import EqualityAnswers
from core.insights.services.equality import EqualityRefused, equality_answers_save
from core.members.models import Member, Role
from tenants.services.staff import network_export

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from tenants.models import Network
    from tests.conftest import NetworkClient

ANSWERS = {
    "ethnic_group": "white_roma",
    "gender": "non_binary",
    "age_band": "35_44",
    "disability": "yes",
    "background": "routine",
}


def test_a_member_answers_changes_and_withdraws_on_the_page(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    priya = make_member(network_a)
    client_a.force_login(priya)
    page = client_a.get("/members/profile/equality/")
    content = page.content.decode()
    assert page.status_code == 200
    assert "<legend>Asian, Asian British or Asian Welsh</legend>" in content
    assert "What was the occupation of your main household earner" in content
    assert "Delete my answers" not in content  # nothing to delete yet

    without_consent = client_a.post("/members/profile/equality/", ANSWERS)
    assert without_consent.status_code == 200
    assert 'href="#id_consent"' in without_consent.content.decode()
    unanswered = client_a.post(
        "/members/profile/equality/", {**ANSWERS, "gender": "", "consent": "on"}
    )
    assert 'href="#id_gender"' in unanswered.content.decode()
    with tenant_context(network_a):
        assert not EqualityAnswers.objects.exists()

    saved = client_a.post("/members/profile/equality/", {**ANSWERS, "consent": "on"})
    assert saved.status_code == 302 and saved["Location"] == "/members/profile/equality/"
    again = client_a.get("/members/profile/equality/").content.decode()
    assert re.search(
        r'<input type="radio" name="ethnic_group" value="white_roma"[^>]* checked>', again
    )
    client_a.post("/members/profile/equality/", {**ANSWERS, "age_band": "45_54", "consent": "on"})
    with tenant_context(network_a):
        row = EqualityAnswers.objects.get()
        assert (row.member_id, row.age_band, row.ethnic_group) == (priya.pk, "45_54", "white_roma")
        assert not AuditEvent.objects.exists()  # organisers read the audit log

    assert client_a.get("/members/profile/equality/withdraw/").status_code == 405
    withdrawn = client_a.post("/members/profile/equality/withdraw/")
    assert withdrawn["Location"] == "/members/profile/equality/"
    with tenant_context(network_a):
        assert not EqualityAnswers.objects.exists()


def test_the_page_needs_a_signed_in_member(network_a: Network, client_a: NetworkClient) -> None:
    page = client_a.get("/members/profile/equality/")
    assert page.status_code == 302 and page["Location"].startswith("/accounts/login/")
    assert client_a.post("/members/profile/equality/withdraw/").status_code == 302


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ethnic_group": "martian"}, "ethnic_group"),
        ({"gender": ""}, "gender"),
        ({"age_band": "12_15"}, "age_band"),
        ({"disability": "maybe"}, "disability"),
        ({"background": None}, "background"),
        ({"consent": False}, "consent"),
        ({"consent": "yes"}, "consent"),
    ],
)
def test_bad_answers_are_refused_and_nothing_is_written(
    network_a: Network, make_member: Callable[..., Member], changes: dict[str, Any], field: str
) -> None:
    priya = make_member(network_a)
    with tenant_context(network_a):
        equality_answers_save(actor=priya, consent=True, **ANSWERS)
        with pytest.raises(EqualityRefused) as refused:
            equality_answers_save(actor=priya, **{"consent": True, **ANSWERS, **changes})
        assert refused.value.field == field
        assert EqualityAnswers.objects.get().age_band == "35_44"


def test_the_api_gives_a_member_only_their_own_answers(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    priya = make_member(network_a)
    ben = make_member(network_a)
    # Member ids restart in every network: B's first member has Priya's id.
    stranger = make_member(network_b)
    assert stranger.pk == priya.pk
    client_a.force_login(priya)
    assert client_a.get("/api/v1/insights/equality/me/").status_code == 404
    refused = client_a.put(
        "/api/v1/insights/equality/me/", ANSWERS, content_type="application/json"
    )
    assert refused.status_code == 400 and refused.json()["field"] == "consent"
    bad = client_a.put(
        "/api/v1/insights/equality/me/",
        {**ANSWERS, "consent": True, "gender": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["field"] == "gender"
    saved = client_a.put(
        "/api/v1/insights/equality/me/",
        {**ANSWERS, "consent": True},
        content_type="application/json",
    )
    assert saved.status_code == 200 and saved.json()["ethnic_group"] == "white_roma"
    assert client_a.get("/api/v1/insights/equality/me/").json()["disability"] == "yes"

    # Nobody else reaches them: another member, an organiser, the same id in network B.
    client_a.force_login(ben)
    assert client_a.get("/api/v1/insights/equality/me/").status_code == 404
    profile = client_a.get(f"/api/v1/members/{priya.pk}/").content.decode()
    assert "roma" not in profile.lower() and "non_binary" not in profile
    with tenant_context(network_a):
        Member.objects.filter(pk=ben.pk).update(role=Role.ORGANISER)
    page = client_a.get(f"/members/{priya.pk}/").content.decode()
    assert "Roma" not in page and "Non-binary" not in page
    client_b.force_login(stranger)
    assert client_b.get("/api/v1/insights/equality/me/").status_code == 404
    assert client_b.delete("/api/v1/insights/equality/me/").status_code == 204
    with tenant_context(network_a):
        assert EqualityAnswers.objects.filter(member=priya).exists()

    client_a.force_login(priya)
    assert client_a.delete("/api/v1/insights/equality/me/").status_code == 204
    assert client_a.get("/api/v1/insights/equality/me/").status_code == 404
    with tenant_context(network_a):
        assert not EqualityAnswers.objects.exists()


def test_a_network_export_leaves_equality_answers_out(
    network_a: Network, make_member: Callable[..., Member], db: None
) -> None:
    priya = make_member(network_a)
    with tenant_context(network_a):
        equality_answers_save(actor=priya, consent=True, **ANSWERS)
    staff = Member.objects.create_user(
        "staff@hexitime.example", "x" * 20, full_name="Staff", is_staff=True
    )
    archive = zipfile.ZipFile(io.BytesIO(network_export(actor=staff, network=network_a)))
    assert "csv/members.member.csv" in archive.namelist()
    assert not [name for name in archive.namelist() if "insights" in name]
    assert all(b"white_roma" not in archive.read(name) for name in archive.namelist())

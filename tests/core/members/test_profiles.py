from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.joining.services import member_join
from core.listings.services import listing_create
from core.members.models import Member, Role
from core.members.selectors import profile_shown_in_full
from core.members.services import JoinRefused, member_profile_update
from kernel.errors import PermissionDenied

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from tenants.models import Network
    from tests.conftest import NetworkClient

PROFILE = {
    "full_name": "Priya Patel",
    "profession": "pharmacist",
    "job_title": "Band 7 pharmacist",
    "organisation": "Oxford University Hospitals",
    "skills": ["Teaching", " QI  methods", "teaching"],
    "bio": "I teach medicines reconciliation.\nAsk me about antimicrobial stewardship.",
    "availability": "Tuesday afternoons",
    "preferred_formats": ["video", "in_person"],
    "location": "John Radcliffe",
    "profile_visibility": "name_only",
}


def test_a_member_edits_their_profile_and_chooses_who_sees_it(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    priya = make_member(network_a)
    ben = make_member(network_a)
    boss = make_member(network_a, role=Role.ORGANISER)
    with tenant_context(network_a):
        priya = member_profile_update(actor=priya, **PROFILE)
        assert priya.skills == ["teaching", "qi methods"]
        assert priya.preferred_format_labels == ["Video call", "In person"]
        assert not profile_shown_in_full(viewer=ben, member=priya)
        assert profile_shown_in_full(viewer=priya, member=priya)
        assert profile_shown_in_full(viewer=boss, member=priya)
        priya = member_profile_update(actor=priya, profile_visibility="network")
        assert profile_shown_in_full(viewer=ben, member=priya)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"bio": "Hi <script>alert(1)</script>"}, "bio"),
        ({"bio": "x" * 2001}, "bio"),
        ({"job_title": "x" * 10_000}, "job_title"),
        ({"profession": "wizard"}, "profession"),
        ({"preferred_formats": ["carrier pigeon"]}, "preferred_formats"),
        ({"profile_visibility": "everyone"}, "profile_visibility"),
        ({"skills": ["<b>bold</b>"]}, "skills"),
        ({"skills": [f"skill {n}" for n in range(21)]}, "skills"),
        ({"full_name": " "}, "full_name"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(
    network_a: Network, make_member: Callable[..., Member], fields: dict[str, Any], field: str
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    with tenant_context(network_a):
        with pytest.raises(JoinRefused) as refused:
            member_profile_update(actor=priya, location="Oxford", **fields)
        assert refused.value.field == field
        saved = Member.objects.get(pk=priya.pk)
        assert (saved.full_name, saved.location, saved.bio) == ("Priya Patel", "", "")


def test_profile_pages_escape_text_and_respect_visibility(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    ben = make_member(network_a, full_name="Ben Begum")
    client_a.force_login(priya)
    form = client_a.get("/members/profile/edit/")
    assert b'<label for="id_bio">About you</label>' in form.content
    bad = client_a.post("/members/profile/edit/", {**PROFILE, "skills": "", "bio": "<img src=x>"})
    assert bad.status_code == 200 and b'href="#id_bio"' in bad.content
    saved = client_a.post(
        "/members/profile/edit/",
        {
            **PROFILE,
            "curated_skills": ["teaching"],
            "other_skills": "antimicrobials, Teaching",
            "bio": "Fish & chips > salad",
        },
    )
    assert saved["Location"] == f"/members/{priya.pk}/"
    with tenant_context(network_a):
        assert Member.objects.get(pk=priya.pk).skills == ["teaching", "antimicrobials"]
    own = client_a.get(saved["Location"])
    assert b"Fish &amp; chips &gt; salad" in own.content
    client_a.force_login(ben)
    other = client_a.get(f"/members/{priya.pk}/")
    assert b"Pharmacist" in other.content and b"Fish" not in other.content  # name_only


def test_network_b_cannot_see_network_a_profiles_by_id(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    make_member(network_a)
    priya = make_member(network_a, full_name="Priya Patel")
    reader = make_member(network_b)
    client_b.force_login(reader)
    assert priya.pk != reader.pk  # an id that exists in A but not in B
    assert client_b.get(f"/members/{priya.pk}/").status_code == 404
    assert client_b.get("/members/999999/").status_code == 404


def test_until_verified_a_member_may_browse_but_not_post(
    network_a: Network, client_a: NetworkClient
) -> None:
    with tenant_context(network_a):
        nia = member_join(email="nia@nhs.net", full_name="Nia Nowak", password="kindly-staple-49")
        assert nia is not None  # a new address
        with pytest.raises(PermissionDenied, match="Confirm your email"):
            listing_create(
                actor=nia,
                kind="offer",
                title="Coaching",
                description="Coaching",
                category="coaching",
                format="video",
                duration_minutes=60,
            )
    client_a.force_login(nia)
    assert client_a.get("/listings/").status_code == 200


def test_error_summary_links_reach_checkbox_and_radio_groups(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    page = client_a.post(
        "/members/profile/edit/",
        {"full_name": "Priya Patel", "preferred_formats": ["carrier pigeon"]},
    )
    assert b'href="#id_preferred_formats"' in page.content
    assert b'id="id_preferred_formats"' in page.content  # the fieldset the link lands on
    assert b'href="#id_profile_visibility"' in page.content  # required radio group, unanswered
    listing = client_a.post("/listings/new/", {"title": "Coaching"})
    assert b'href="#id_kind"' in listing.content and b'id="id_kind"' in listing.content

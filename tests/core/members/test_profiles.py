import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context
from PIL import Image

from core.members.models import Member
from core.members.selectors import access_member, member_directory, profile_view
from core.members.services import PHOTO_MAX_BYTES, ProfileRefused, profile_update
from hexitime.errors import NotFound


def _png(size=(64, 64)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="PNG")
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def alice(network_a, make_member):
    return make_member(network_a, full_name="Alice Adeyemi", profession="nurse")


def test_profile_update_stores_fields_tags_and_photo(network_a, alice):
    with tenant_context(network_a):
        member = profile_update(
            actor=alice, role_grade="Ward sister, Band 7", organisation="John Radcliffe",
            skills=["QI methods", "  Sepsis   screening ", "qi methods"], bio="Nights on AMU.",
            availability="Tuesday afternoons", preferred_formats=["video", "in_person"],
            location="Oxford", photo=_png(),
        )  # fmt: skip
        member.refresh_from_db()
        assert member.skills == ["qi methods", "sepsis screening"]
        assert member.preferred_formats == ["video", "in_person"]
        name = member.photo.name or ""
        assert name.startswith("profiles/") and name.endswith(".png")
        assert member.photo.storage.exists(name)
        assert network_a.schema_name in member.photo.path  # per-network media folder


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"bio": "<script>alert('x')</script>Hello"}, "bio", "plain text"),
        ({"role_grade": "x" * 10_000}, "role_grade", "10,000 characters"),
        ({"profession": "astronaut"}, "profession", "profession"),
        ({"preferred_formats": ["carrier pigeon"]}, "preferred_formats", "formats"),
        ({"skills": ["ok", "y" * 51]}, "skills", "50 characters"),
        ({"skills": [f"skill {n}" for n in range(21)]}, "skills", "up to 20"),
        ({"visible_fields": ["email"]}, "visible_fields", "Unknown"),
        ({"email": "me@evil.example"}, None, "Unknown field"),
    ],
)
def test_bad_profile_input_is_refused_and_changes_nothing(network_a, alice, fields, field, message):
    with tenant_context(network_a):
        with pytest.raises(ProfileRefused, match=message) as refused:
            profile_update(actor=alice, location="Banbury", **fields)
        assert refused.value.field == field
        alice.refresh_from_db()
        assert alice.location == "" and alice.bio == "" and alice.email.endswith("example")


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * PHOTO_MAX_BYTES), "2 MB"),
        (SimpleUploadedFile("fake.png", b"<?php echo 'not an image'; ?>"), "could not be read"),
        (_png(size=(4001, 4001)), "4000 by 4000"),
    ],
)
def test_bad_photos_are_refused_and_nothing_is_stored(network_a, alice, upload, message):
    with tenant_context(network_a):
        with pytest.raises(ProfileRefused, match=message):
            profile_update(actor=alice, bio="New bio", photo=upload)
        alice.refresh_from_db()
        assert not alice.photo and alice.bio == ""


def test_other_members_see_only_what_the_member_chose(network_a, alice, make_member):
    ben = make_member(network_a, full_name="Ben Begum")
    with tenant_context(network_a):
        profile_update(actor=alice, bio="About me", location="Oxford",
                       visible_fields=["bio"])  # fmt: skip
        alice.refresh_from_db()
        seen_by_ben = profile_view(subject=alice, viewer=ben)
        assert seen_by_ben["bio"] == "About me"
        assert "location" not in seen_by_ben and "organisation" not in seen_by_ben
        assert profile_view(subject=alice, viewer=alice)["location"] == "Oxford"


def test_directory_hides_pending_members_and_filters(network_a, alice, make_member):
    make_member(network_a, full_name="Pat Pending", approval="pending", skills=["audit"])
    make_member(network_a, full_name="Dev Doctor", profession="doctor", skills=["audit"])
    with tenant_context(network_a):
        assert [m.full_name for m in member_directory(skill="Audit")] == ["Dev Doctor"]
        assert [m.full_name for m in member_directory(profession="nurse")] == ["Alice Adeyemi"]
        pending = Member.objects.get(full_name="Pat Pending")
        with pytest.raises(NotFound):
            access_member(pending.pk, member=alice)


def test_profile_page_saves_and_shows_errors_at_the_top(network_a, alice, client_a):
    client_a.force_login(alice)
    bad = client_a.post("/members/me/", {"full_name": "Alice", "bio": "<script>x</script>"})
    assert bad.status_code == 200
    assert b"There is a problem" in bad.content and b'href="#id_bio"' in bad.content
    good = client_a.post("/members/me/", {
        "full_name": "Alice Adeyemi", "skills": ["coaching"], "other_skills": "sepsis, falls",
        "shown_fields": ["bio"], "bio": "Ten years in ED.", "photo": _png(),
    })  # fmt: skip
    assert good.status_code == 302
    page = client_a.get(good["Location"])
    assert b"Ten years in ED." in page.content and b"sepsis" in page.content
    with tenant_context(network_a):
        alice.refresh_from_db()
        assert alice.skills == ["coaching", "sepsis", "falls"]
        assert alice.visible_fields == ["bio"]


def test_profile_api_reads_and_updates(network_a, alice, make_member, client_a):
    ben = make_member(network_a, full_name="Ben Begum", skills=["audit"])
    client_a.force_login(alice)
    response = client_a.patch(
        "/api/v1/members/me/", {"bio": "Happy to help", "skills": ["Run charts"]},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["skills"] == ["run charts"]
    refused = client_a.patch("/api/v1/members/me/", {"bio": "<b>bold</b>"},
                             content_type="application/json")  # fmt: skip
    assert refused.status_code == 400 and "plain text" in refused.content.decode()
    assert client_a.get(f"/api/v1/members/{ben.pk}/").json()["full_name"] == "Ben Begum"
    listed = client_a.get("/api/v1/members/?skill=audit").json()
    assert [m["full_name"] for m in listed["results"]] == ["Ben Begum"]


def test_member_list_api_query_count_does_not_grow(network_a, alice, make_member, client_a):
    client_a.force_login(alice)
    for n in range(3):
        make_member(network_a, full_name=f"Few {n}")
    with CaptureQueriesContext(db_connection) as few:
        assert client_a.get("/api/v1/members/").status_code == 200
    for n in range(15):
        make_member(network_a, full_name=f"Many {n}")
    with CaptureQueriesContext(db_connection) as many:
        assert client_a.get("/api/v1/members/").status_code == 200
    assert len(many) == len(few)


def test_another_network_cannot_see_or_guess_members(
    network_a, network_b, alice, make_member, client_b
):
    carol = make_member(network_a, full_name="Carol in A")
    bob = make_member(network_b, full_name="Bob in B")  # ids restart per network: bob is 1
    assert carol.pk != bob.pk
    client_b.force_login(bob)
    assert client_b.get(f"/members/{carol.pk}/").status_code == 404
    assert client_b.get(f"/api/v1/members/{carol.pk}/").status_code == 404
    assert b"Alice" not in client_b.get(f"/members/{alice.pk}/").content
    names = [m["full_name"] for m in client_b.get("/api/v1/members/").json()["results"]]
    assert names == ["Bob in B"]
    assert b"Alice" not in client_b.get("/members/").content


def test_anonymous_visitors_cannot_read_profiles(network_a, alice, client_a):
    assert client_a.get(f"/members/{alice.pk}/").status_code == 302
    assert client_a.get(f"/api/v1/members/{alice.pk}/").status_code in (401, 403)

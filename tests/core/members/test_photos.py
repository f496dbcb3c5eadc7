"""Profile photos: checked by content, size-limited, stored in the network's own media."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from django_tenants.utils import tenant_context
from PIL import Image

from core.members.services import PHOTO_MAX_BYTES, JoinRefused, member_profile_update

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse
    from pytest_django import DjangoCaptureOnCommitCallbacks

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def _image(size: tuple[int, int] = (64, 64), image_format: str = "PNG") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format=image_format)
    return SimpleUploadedFile("me.png", buffer.getvalue(), content_type="image/png")


def test_a_photo_is_stored_in_the_networks_media_and_replaced_cleanly(
    network_a: Network,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    with tenant_context(network_a):
        priya = member_profile_update(actor=priya, photo=_image())
        first = priya.photo.name or ""
        assert first.startswith("profiles/") and first.endswith(".png")
        assert network_a.schema_name in priya.photo.path  # one media folder per network
        with django_capture_on_commit_callbacks(execute=True):
            priya = member_profile_update(actor=priya, photo=_image(image_format="JPEG"))
        assert (priya.photo.name or "").endswith(".jpg")
        assert not priya.photo.storage.exists(first)  # the old file goes after the commit
        priya = member_profile_update(actor=priya, remove_photo=True)
        priya.refresh_from_db()
        assert not priya.photo


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("big.png", b"\x89PNG" + b"0" * PHOTO_MAX_BYTES), "2 MB"),
        (SimpleUploadedFile("evil.png", b"<script>alert(1)</script>"), "could not be read"),
        (_image(size=(4001, 10)), "4000 pixels"),
        (_image(image_format="GIF"), "JPEG, PNG or WebP"),
    ],
)
def test_bad_photos_are_refused_and_change_nothing(
    network_a: Network, make_member: Callable[..., Member], upload: SimpleUploadedFile, message: str
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    with tenant_context(network_a):
        with pytest.raises(JoinRefused, match=message) as refused:
            member_profile_update(actor=priya, bio="New bio", photo=upload)
        assert refused.value.field == "photo"
        priya.refresh_from_db()
        assert not priya.photo and priya.bio == ""


def test_the_profile_page_uploads_and_reports_a_bad_photo_at_the_top(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    client_a.force_login(priya)
    form = {"full_name": "Priya Patel", "profile_visibility": "network"}
    bad = client_a.post(_edit_url(), {**form, "photo": SimpleUploadedFile("x.png", b"nope")})
    assert bad.status_code == 200
    assert b"There is a problem" in bad.content and b'href="#id_photo"' in bad.content
    good = client_a.post(_edit_url(), {**form, "photo": _image()})
    assert good.status_code == 302
    page = client_a.get(good["Location"]).content.decode()
    with tenant_context(network_a):
        priya.refresh_from_db()
        assert priya.photo.url in page
    bob = make_member(network_b, full_name="Bob in B")
    client_b.force_login(bob)
    assert priya.photo.url not in client_b.get(f"/members/{priya.pk}/").content.decode()


def _edit_url() -> str:
    return reverse("profile-edit", urlconf="hexitime.urls_tenant")


def test_the_api_takes_a_photo_as_multipart_and_refuses_a_fake(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    client_a.force_login(priya)

    def patch(data: dict[str, Any]) -> TestResponse:
        body = encode_multipart(BOUNDARY, data)
        return client_a.generic(
            "PATCH", "/api/v1/members/me/", body, content_type=MULTIPART_CONTENT
        )

    refused = patch({"photo": SimpleUploadedFile("x.png", b"GIF89a nonsense")})
    assert refused.status_code == 400 and "could not be read" in refused.content.decode()
    saved = patch({"photo": _image(), "bio": "Hello"})
    assert saved.status_code == 200, saved.content
    assert saved.json()["photo"].startswith(f"/media/{network_a.schema_name}/profiles/")

"""Uploaded media on S3-compatible object storage, one key prefix per network.

The bucket is served by moto's S3 server on 127.0.0.1 (a real HTTP server speaking the S3
API, in a thread of this process), so every storage call below is a real S3 request made
by boto3. Tests marked with the `media` fixture run once against that bucket and once
against the local folder, which must behave the same.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from moto.server import ThreadedMotoServer
from PIL import Image

from core.members.models import Member, Role
from core.members.services import member_profile_update
from hexitime.settings.env import REPO_ROOT
from hexitime.settings.storage import media_storage
from kernel.storage import TenantS3Storage, network_media_delete
from tenants.models import Network
from tenants.services.staff import network_delete, network_export
from tests.conftest import streamed
from tests.theming.test_theme import _png
from theming.services import theme_update

if TYPE_CHECKING:
    from pytest_django import Settings

    from tests.conftest import NetworkClient

REGION = "eu-west-2"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 API on a free port of 127.0.0.1, for the whole test session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Any]:
    """A fresh private bucket, and the default storage pointed at it through the same
    environment variables production reads."""
    name = f"hexitime-media-{uuid.uuid4().hex[:12]}"
    for variable, value in {
        "HEXITIME_MEDIA_BUCKET": name,
        "HEXITIME_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": "hexitime-test",
        "AWS_SECRET_ACCESS_KEY": "hexitime-test-secret",
    }.items():
        monkeypatch.setenv(variable, value)
    s3 = boto3.resource("s3", endpoint_url=s3_endpoint, region_name=REGION)
    created = s3.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    settings.STORAGES = {**settings.STORAGES, "default": media_storage()}
    yield created
    created.objects.all().delete()
    created.delete()


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Path:
    """The local folder, as when no bucket is named."""
    monkeypatch.delenv("HEXITIME_MEDIA_BUCKET", raising=False)
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {**settings.STORAGES, "default": media_storage()}
    return tmp_path


@pytest.fixture(params=["bucket", "folder"])
def media(request: pytest.FixtureRequest) -> Callable[[Network], set[str]]:
    """Run the test on each backend; returns a function listing a network's stored files
    (keys in the bucket, paths under the folder), read around the storage under test."""
    if request.param == "bucket":
        bucket = request.getfixturevalue("bucket")
        return lambda network: {
            o.key.removeprefix(f"{network.schema_name}/")
            for o in bucket.objects.filter(Prefix=f"{network.schema_name}/")
        }
    root: Path = request.getfixturevalue("folder")
    return lambda network: {
        p.relative_to(root / network.schema_name).as_posix()
        for p in (root / network.schema_name).rglob("*")
        if p.is_file()
    }


@pytest.fixture
def organiser_of(make_member: Callable[..., Member]) -> Callable[[Network], Member]:
    return lambda network: make_member(network, role=Role.ORGANISER)


def _logo(network: Network, actor: Member, data: bytes) -> str:
    logo = SimpleUploadedFile("l.png", data)
    theme = theme_update(
        network=network, actor=actor, primary_colour="#005eb8", accent_colour="#007f3b", logo=logo
    )
    return theme.logo.name or ""


def test_a_logo_uploaded_on_the_branding_page_lands_under_the_networks_prefix_and_is_served(
    bucket: Any,
    network_a: Network,
    organiser_of: Callable[[Network], Member],
    client_a: NetworkClient,
) -> None:
    client_a.force_login(organiser_of(network_a))
    logo = _png(3, 3)
    response = client_a.post(
        "/settings/branding/",
        {
            "primary_colour": "#005eb8",
            "accent_colour": "#007f3b",
            "logo": SimpleUploadedFile("our logo.png", logo),
        },
    )
    assert response.status_code == 302, response.content
    key = f"{network_a.schema_name}/theme/logo-2.png"
    assert [o.key for o in bucket.objects.all()] == [key]
    stored = bucket.Object(key)
    assert stored.get()["Body"].read() == logo
    assert stored.content_type == "image/png"
    # Private: only the owner holds a grant; nobody else (AllUsers, AuthenticatedUsers) does.
    assert [g["Grantee"]["Type"] for g in stored.Acl().grants] == ["CanonicalUser"]
    client_a.logout()  # the sign-in pages show the logo to people not yet signed in
    served = client_a.get("/theme/logo/2")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert streamed(served) == logo


def test_the_same_name_in_two_networks_is_two_files_and_b_cannot_reach_as(
    media: Callable[[Network], set[str]],
    network_a: Network,
    network_b: Network,
    organiser_of: Callable[[Network], Member],
    client_b: NetworkClient,
) -> None:
    logo_a, logo_b = _png(2, 2), _png(5, 5)
    name = _logo(network_a, organiser_of(network_a), logo_a)
    assert _logo(network_b, organiser_of(network_b), logo_b) == name == "theme/logo-2.png"
    assert media(network_a) == media(network_b) == {name}
    assert streamed(client_b.get("/theme/logo/2")) == logo_b
    with tenant_context(network_b):
        with default_storage.open(name) as own:
            assert own.read() == logo_b
        for reach in (f"../{network_a.schema_name}/{name}", f"/{network_a.schema_name}/{name}"):
            with pytest.raises(SuspiciousOperation):
                default_storage.open(reach)
            with pytest.raises(SuspiciousOperation):
                default_storage.save(reach, ContentFile(b"B was here"))
            with pytest.raises(SuspiciousOperation):
                default_storage.delete(reach)
        # A second file of the same name gets a name of its own, as on disk.
        again = default_storage.save(name, ContentFile(b"again"))
        assert again != name and again.startswith("theme/logo-2_")
    with tenant_context(network_a), default_storage.open(name) as theirs:
        assert theirs.read() == logo_a
    assert media(network_a) == {name}


def test_a_photo_url_is_signed_and_opens_only_that_networks_object(
    bucket: Any, network_a: Network, make_member: Callable[..., Member]
) -> None:
    priya = make_member(network_a, full_name="Priya Patel")
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(buffer, format="PNG")
    with tenant_context(network_a):
        priya = member_profile_update(
            actor=priya, photo=SimpleUploadedFile("me.png", buffer.getvalue())
        )
        url = priya.photo.url
    assert f"/{bucket.name}/{network_a.schema_name}/profiles/" in url
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our moto server
        assert response.read() == buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_deleting_a_network_deletes_its_media_and_no_other(
    media: Callable[[Network], set[str]],
    make_network: Callable[..., Network],
    network_b: Network,
    organiser_of: Callable[[Network], Member],
) -> None:
    doomed = make_network("doomed")
    staff = Member.objects.create_user(
        "staff@hexitime.example", "a long staff passphrase", full_name="Sam Staff", is_staff=True
    )
    _logo(doomed, organiser_of(doomed), _png())
    _logo(network_b, organiser_of(network_b), _png())
    assert media(doomed) == media(network_b) == {"theme/logo-2.png"}
    network_export(actor=staff, network=doomed)
    network_delete(actor=staff, network=doomed, confirmation="doomed")  # media go on commit
    assert media(doomed) == set()
    assert media(network_b) == {"theme/logo-2.png"}


def test_the_public_schema_media_is_never_deleted_as_a_networks(folder: Path) -> None:
    with pytest.raises(ValueError, match="public schema"):
        network_media_delete("public")


def test_without_a_bucket_media_stay_in_the_local_folder(
    folder: Path, network_a: Network, organiser_of: Callable[[Network], Member]
) -> None:
    name = _logo(network_a, organiser_of(network_a), _png())
    assert (folder / network_a.schema_name / name).read_bytes() == _png()
    assert not isinstance(storages["default"], TenantS3Storage)


def test_production_settings_with_a_bucket_pass_check_deploy() -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.production",
        "DJANGO_SECRET_KEY": "x" * 20 + uuid.uuid4().hex + uuid.uuid4().hex,
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
        "HEXITIME_MEDIA_BUCKET": "hexitime-media",
        "HEXITIME_S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_S3_REGION_NAME": REGION,
    }
    script = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')\n"
        "from django.core.files.storage import storages\n"
        "s = storages['default']\n"
        "print(type(s).__name__, s.bucket_name, s.endpoint_url, s.querystring_auth)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TenantS3Storage hexitime-media http://127.0.0.1:9 True" in result.stdout

"""The development mailbox of `hexitime up`: a real Celery worker's emails land as files,
each announced by one readable line, and are listed on /dev/mail/ of the public site."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.joining.services import member_join

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.test import Client
    from pytest_django import Settings

    from tenants.models import Network
    from tests.conftest import NetworkClient

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for_files(folder: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = sorted(folder.glob("*.eml")) if folder.is_dir() else []
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {count} emails in {folder}")


def test_each_email_is_a_file_and_one_readable_line_and_listed_on_the_mailbox_page(
    worker: None,
    make_network: Callable[..., Network],
    settings: Settings,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    public_client: Client,
    client_a: NetworkClient,
) -> None:
    settings.EMAIL_BACKEND = "hexitime.devmail.DevelopmentEmailBackend"
    settings.DEV_MAILBOX = tmp_path / "mail"
    caplog.set_level(logging.INFO, logger="hexitime.mail")
    cafe = make_network("cafe", "Café Ünïon")  # a subject that must be MIME-encoded
    with tenant_context(cafe):
        member_join(full_name="Zoë Ng", email="zoe@nhs.net", password="a-long-passphrase-1")

    [path] = _wait_for_files(settings.DEV_MAILBOX, 1)
    assert b"=?utf-8?" in path.read_bytes()  # the whole email, as it would be sent
    [line] = [r.getMessage() for r in caplog.records if r.name == "hexitime.mail"]
    assert line.startswith("Email to zoe@nhs.net: [Café Ünïon] Confirm your email address http")
    assert "/join/verify/" in line and str(path) in line

    mailbox = public_client.get("/dev/mail/").content.decode()
    assert "[Café Ünïon] Confirm your email address" in mailbox and "zoe@nhs.net" in mailbox
    one = public_client.get(f"/dev/mail/{path.name}/").content.decode()
    assert "Thank you for joining Café Ünïon" in one and "/join/verify/" in one
    assert public_client.get("/dev/mail/../../etc/passwd/").status_code == 404
    # A network's site has no mailbox; nor has a deployment (no DEV_MAILBOX).
    assert client_a.get("/dev/mail/").status_code == 404
    settings.DEV_MAILBOX = None
    assert public_client.get("/dev/mail/").status_code == 404
    assert public_client.get(f"/dev/mail/{path.name}/").status_code == 404

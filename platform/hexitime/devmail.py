"""Email on a developer's machine (`hexitime up`): each message is written whole to a file in
the development mailbox (`$HEXITIME_HOME/mail/`) and announced by one readable line in the
console (who it is for, its subject, its first link); `/dev/mail/` on the public site lists
the mailbox and shows each message. Nothing is sent.

Settings: `EMAIL_BACKEND = "hexitime.devmail.DevelopmentEmailBackend"` and `DEV_MAILBOX`, the
folder. Without `DEV_MAILBOX` (every deployment, the tests) the pages answer 404."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger("hexitime.mail")
LINK = re.compile(r"https?://\S+")
# Files are named <UTC time>-<random>.eml: sorted by name, oldest first.
NAME = re.compile(r"^\d{8}T\d{6}\d{6}-[0-9a-f]{32}\.eml$")


def mailbox() -> Path | None:
    folder = getattr(settings, "DEV_MAILBOX", None)
    return Path(folder) if folder else None


def first_link(text: str) -> str:
    found = LINK.search(text)
    return found.group(0) if found else ""


class DevelopmentEmailBackend(BaseEmailBackend):
    """Writes each message to its own file in `DEV_MAILBOX` and logs one line for it."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        folder = mailbox()
        if folder is None:
            raise RuntimeError("DevelopmentEmailBackend needs DEV_MAILBOX (a folder) set.")
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex}.eml"
            (folder / name).write_bytes(message.message().as_bytes())
            link = first_link(str(message.body))
            logger.info(
                "Email to %s: %s%s (%s)",
                ", ".join(message.recipients()),
                message.subject,
                f" {link}" if link else "",
                folder / name,
            )
            sent += 1
        return sent


@dataclass(frozen=True)
class Mail:
    name: str
    to: str
    subject: str
    date: str
    body: str


def _read(path: Path) -> Mail:
    # With the default policy the parser builds `email.message.EmailMessage`s.
    parsed: ParsedMessage = email.message_from_bytes(
        path.read_bytes(), _class=ParsedMessage, policy=email.policy.default
    )
    part = parsed.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if part is not None else ""
    return Mail(
        path.name,
        str(parsed["To"] or ""),
        str(parsed["Subject"] or ""),
        str(parsed["Date"] or ""),
        body,
    )


def mail_list() -> list[Mail]:
    """The development mailbox, newest first."""
    folder = mailbox()
    if folder is None or not folder.is_dir():
        return []
    paths = sorted((p for p in folder.iterdir() if NAME.match(p.name)), reverse=True)
    return [_read(path) for path in paths]


def mailbox_page(request: HttpRequest) -> HttpResponse:
    if mailbox() is None:
        raise Http404("There is no development mailbox.")
    return render(request, "theming/dev_mailbox.html", {"mails": mail_list(), "folder": mailbox()})


def mail_page(request: HttpRequest, name: str) -> HttpResponse:
    folder = mailbox()
    if folder is None or not NAME.match(name) or not (folder / name).is_file():
        raise Http404("No such email.")
    return render(request, "theming/dev_mail.html", {"mail": _read(folder / name)})

"""The one exception type that services raise. Views and APIs map it to a message; and the
errors tasks retry."""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from django.db import InterfaceError, OperationalError


class ApplicationError(Exception):
    """A refusal the person acting can understand and act on.

    `message` is written for a member or organiser, not a developer; `field` names the
    form field it belongs to, if any; `extra` carries structured detail for the API.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class NotFound(ApplicationError):
    """Raised by access_* helpers for anything missing *or* not visible to the actor."""

    status_code = 404


class PermissionDenied(ApplicationError):
    status_code = 403


# What a task that emails retries with backoff (`autoretry_for`): the database or the mail
# relay was unreachable or went away. A refused or silent SMTP connection raises
# ConnectionError or TimeoutError.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    SMTPException,
    ConnectionError,
    TimeoutError,
)

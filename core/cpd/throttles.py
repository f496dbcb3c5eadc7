"""How often one client may check record codes (django-ratelimit, per client address as
joining counts it): the codes are long enough that guessing is hopeless, and this keeps
anyone from trying."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import is_ratelimited

from core.members.throttles import client_key
from kernel.errors import ApplicationError


class VerifyThrottled(ApplicationError):
    status_code = 429


def verify_throttle(request: HttpRequest) -> None:
    """Count a check of a code; refuse it once this client has checked too many."""
    if is_ratelimited(
        request,
        group="cpd.verify",
        key=client_key,
        rate=settings.HEXITIME_CPD_VERIFY_RATE,
        increment=True,
    ):
        raise VerifyThrottled(_("Too many checks from here. Please try again in a minute."))

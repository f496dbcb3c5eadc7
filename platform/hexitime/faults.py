"""503 with `Retry-After` when the database or the broker cannot be reached mid-request.

Django turns any exception into a 500 at the layer where it happened (the view, or the
middleware saving the session, or the tenant routing), showing the debug page under DEBUG.
A fault of our own infrastructure is not a bug in the request: `got_request_exception`
marks the request, and this middleware (outermost but for the probes) answers instead
with a plain page, or JSON under `/api/`, that asks the client to try again. The move may
or may not have taken effect, so the page says so; API clients retry with the same
`Idempotency-Key` (core.idempotency) to find out safely. The error is still logged.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import kombu.exceptions
import redis.exceptions
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from hexitime.error_pages import error_html

RETRY_AFTER_SECONDS = 10
_OUTAGES = (
    OperationalError,  # connection refused or lost, backend terminated, lock timeout
    InterfaceError,  # the connection was already closed
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,  # the broker, while queueing a task
)
_MARK = "_hexitime_outage"
MESSAGE = (
    "Hexitime cannot reach its database or queue just now. What you did may or may not "
    "have been saved: please check in a moment before doing it again."
)


def is_outage(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from, is an infrastructure fault."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, _OUTAGES):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _mark_outage(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Sent from inside Django's `except` block: the exception is the one being handled.
    if request is not None and is_outage(sys.exc_info()[1]):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark_outage, dispatch_uid="hexitime.faults")


class UnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, _MARK, False):
            return unavailable_response(request)
        return response


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 itself; touches neither the database nor Redis."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": MESSAGE, "retry_after": RETRY_AFTER_SECONDS}, status=503)
    else:
        response = HttpResponse(error_html(503, MESSAGE), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response

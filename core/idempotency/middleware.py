"""`Idempotency-Key` on every state-changing API call (see services.py for the rules).

A middleware rather than a base class for the API views: it covers every `/api/` view,
present and future, and answers a repeat before any view code runs. It authenticates the
request the way the API does (DRF's authentication classes) to know whose key it is;
requests without a signed-in member are passed through untouched (an anonymous key has
no owner to keep it apart from another client's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django_tenants.utils import get_public_schema_name
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from core.members.models import Member
from kernel.db import connection

from .selectors import idempotent_response_get
from .services import idempotency_key_hold, idempotent_response_keep

HEADER = "Idempotency-Key"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
_NOT_KEPT = {429}  # throttled: the request never ran


class IdempotencyKeyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if (
            key is None
            or request.method in _SAFE_METHODS
            or not request.path.startswith("/api/")
            or connection.schema_name == get_public_schema_name()
        ):
            return self.get_response(request)
        if not 1 <= len(key) <= 255:
            return JsonResponse(
                {"detail": f"{HEADER} must be 1 to 255 characters.", "field": HEADER}, status=400
            )
        member = _api_member(request)
        if member is None:
            return self.get_response(request)
        fingerprint = _fingerprint(request)
        with idempotency_key_hold(member=member, key=key) as held:
            if not held:
                busy = JsonResponse(
                    {
                        "detail": "A request with this Idempotency-Key is still being processed. "
                        "Retry shortly."
                    },
                    status=409,
                )
                busy["Retry-After"] = "1"
                return busy
            kept = idempotent_response_get(member=member, key=key)
            if kept is not None:
                if kept.fingerprint != fingerprint:
                    return JsonResponse(
                        {
                            "detail": f"This {HEADER} was used for a different request. "
                            "Use a new key for a new request.",
                            "field": HEADER,
                        },
                        status=422,
                    )
                replay = HttpResponse(
                    bytes(kept.body), status=kept.status_code, content_type=kept.content_type
                )
                replay["Idempotent-Replayed"] = "true"
                return replay
            response = self.get_response(request)
            if response.status_code < 500 and response.status_code not in _NOT_KEPT:
                idempotent_response_keep(
                    member=member,
                    key=key,
                    fingerprint=fingerprint,
                    status_code=response.status_code,
                    content_type=response.get("Content-Type", "application/json"),
                    body=response.content,
                )
        return response


def _api_member(request: HttpRequest) -> Member | None:
    """The member the API would act for (session or token), or None; leaves the request
    as it found it, so the view authenticates (and refuses) exactly as without a key."""
    before = request.__dict__.get("user")
    classes: Any = api_settings.DEFAULT_AUTHENTICATION_CLASSES  # classes, once imported
    drf = Request(request, authenticators=[auth() for auth in classes])
    try:
        user = drf.user
    except APIException:
        user = None
    if before is not None:
        request.user = before
    return user if isinstance(user, Member) and user.is_authenticated else None


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()

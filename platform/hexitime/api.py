"""API plumbing shared by every app's `apis.py`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular import openapi
from rest_framework import exceptions, pagination, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hexitime.errors import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise ApplicationError; the API answers with its status and message."""
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message, **exc.extra}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """No such URL: JSON under /api/, as the API's own refusals are; elsewhere the page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's pages, except that `?page=` with no number is refused like any other
    non-number rather than read as the first page."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        if request.query_params.get(self.page_query_param, None) == "":
            raise exceptions.NotFound(self.invalid_page_message)
        return super().get_page_number(request, paginator)


class ErrorSerializer(serializers.Serializer):
    """A refusal: `detail` says why; input errors name the fields, each with its messages."""

    detail = serializers.CharField(required=False)
    field = serializers.CharField(required=False, help_text="The input field at fault, if one.")


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the refusals every operation can answer: 400 for input
    it cannot take, 403 for someone who may not (signed out, or without the role), 404 for
    anything that does not exist or is not theirs to see (services raise `NotFound` for
    both, so no one learns what exists elsewhere)."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = dict(super()._get_response_bodies(direction))
        refusals = ["400", "404"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            refusals.append("403")
        if self.method in ("POST", "PUT", "PATCH"):
            refusals.append("415")  # a body in a media type the operation does not read
        for code in refusals:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses

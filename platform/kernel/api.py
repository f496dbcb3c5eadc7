"""API plumbing shared by every app's `apis.py`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.paginator import Paginator
from drf_spectacular import openapi
from drf_spectacular.utils import Direction
from rest_framework import exceptions, pagination, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kernel.errors import ApplicationError
from kernel.pagination import CountingPaginator


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise ApplicationError; the API answers with its status and message."""
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message, **exc.extra}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)


def form_serializer(form: type[forms.Form], name: str) -> type[serializers.Serializer[Any]]:
    """A serializer describing what `form` accepts, for the API schema of endpoints that
    check their input with the same form as the page (the form still does the checking)."""
    fields = {
        field_name: _serializer_field(field) for field_name, field in form.base_fields.items()
    }
    return type(name, (serializers.Serializer,), {**fields, "__doc__": form.__doc__})


def _serializer_field(field: forms.Field) -> serializers.Field[Any, Any, Any, Any]:
    common: dict[str, Any] = {
        "required": field.required,
        "help_text": field.help_text or (str(field.label) if field.label else None),
    }
    if isinstance(field, forms.ChoiceField):
        offered: Iterable[tuple[Any, Any]] = field.choices  # type: ignore[assignment]
        choices = [(value, label) for value, label in offered if value not in ("", None)]
        many = isinstance(field, forms.MultipleChoiceField)
        if not choices:  # the form sets them per request: the type is all the schema can say
            int_coerced = getattr(field, "coerce", None) is int
            kind = serializers.IntegerField if int_coerced else serializers.CharField
            return serializers.ListField(child=kind(), **common) if many else kind(**common)
        if many:
            return serializers.MultipleChoiceField(choices=choices, **common)
        return serializers.ChoiceField(choices=choices, allow_null=not field.required, **common)
    if isinstance(field, forms.IntegerField):
        # Fixed bounds only: a form may compute them per request.
        bounds: dict[str, Any] = {
            name: value
            for name in ("min_value", "max_value")
            if isinstance(value := getattr(field, name), int)
        }
        return serializers.IntegerField(allow_null=not field.required, **bounds, **common)
    if isinstance(field, forms.BooleanField):
        return serializers.BooleanField(**common)
    if isinstance(field, forms.DateTimeField):
        return serializers.DateTimeField(**common)
    if isinstance(field, forms.DateField):
        return serializers.DateField(**common)
    if isinstance(field, forms.CharField):
        return serializers.CharField(
            max_length=field.max_length, allow_blank=not field.required, **common
        )
    raise TypeError(f"No serializer field for {type(field).__name__}")


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's pages, read with their total in one query (kernel.pagination), and `?page=`
    with no number refused like any other non-number rather than read as the first page."""

    django_paginator_class = CountingPaginator

    def get_page_number(self, request: Request, paginator: Paginator[Any]) -> int | str:
        if request.query_params.get(self.page_query_param, None) == "":
            raise exceptions.NotFound(self.invalid_page_message)
        return super().get_page_number(request, paginator)


class ErrorSerializer(serializers.Serializer[Any]):
    """A refusal: `detail` says why; input errors name the fields, each with its messages."""

    detail = serializers.CharField(required=False)
    field = serializers.CharField(required=False, help_text="The input field at fault, if one.")


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, with the refusals every operation can answer: 400 for input
    it cannot take, 409 for a change refused by the state it finds, 403 for someone who
    may not (signed out, or without the role), 404 for
    anything that does not exist or is not theirs to see (services raise `NotFound` for
    both, so no one learns what exists elsewhere)."""

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        responses = dict(super()._get_response_bodies(direction))
        refusals = ["400", "404"]
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            refusals.append("403")
        if self.method in ("POST", "PUT", "PATCH"):
            refusals.append("415")  # a body in a media type the operation does not read
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            # A change refused by the state it finds (a move not open now), or `Busy`: a
            # lock not granted in time (kernel.db.durable_service).
            refusals.append("409")
        for code in refusals:
            responses.setdefault(code, self._get_response_for_code(ErrorSerializer, code))
        return responses

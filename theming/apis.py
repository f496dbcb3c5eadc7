"""The network's accessibility statement: anyone reads it, as on its page (with the known
issues the organisers list and those the automated checks found); organisers change it."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import form_serializer
from tenants.selectors import network_current

from .models import Compliance, Enforcer
from .selectors import StatementShown, accessibility_statement_shown
from .services import accessibility_statement_update
from .views import StatementForm


class CanChangeTheme(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user.has_perm("theming.change_theme"))


class AxeViolationSerializer(serializers.Serializer[Any]):
    rule = serializers.CharField()
    impact = serializers.CharField()
    help = serializers.CharField()
    page = serializers.CharField()


class AxeReportSerializer(serializers.Serializer[Any]):
    tested_on = serializers.DateField(allow_null=True)
    violations = AxeViolationSerializer(many=True)


class StatementSerializer(serializers.Serializer[Any]):
    """The statement as its page shows it."""

    site_name = serializers.CharField()
    organisation = serializers.CharField(
        source="statement.organisation", help_text="Who runs the site; blank: the network."
    )
    emails = serializers.ListField(
        child=serializers.CharField(),
        help_text="Where to report a problem: the address set, else the organisers'.",
    )
    contact_phone = serializers.CharField(source="statement.contact_phone")
    response_days = serializers.IntegerField(source="statement.response_days")
    compliance = serializers.ChoiceField(source="statement.compliance", choices=Compliance.choices)
    enforcer = serializers.ChoiceField(source="statement.enforcer", choices=Enforcer.choices)
    known_issues = serializers.ListField(
        child=serializers.CharField(), help_text="What the organisers know fails, one each."
    )
    tested_by = serializers.CharField(source="statement.tested_by")
    reviewed_on = serializers.DateField(source="statement.reviewed_on", allow_null=True)
    automated_checks = AxeReportSerializer(source="report")


StatementInput = form_serializer(StatementForm, "AccessibilityStatementInput")


def _shown(request: Request) -> dict[str, Any]:
    network = network_current()
    shown: StatementShown = accessibility_statement_shown(network)
    return dict(StatementSerializer(shown).data)


class AccessibilityStatementApi(APIView):
    def get_permissions(self) -> list[BasePermission]:
        if self.request.method == "GET":
            return [AllowAny()]
        return [IsAuthenticated(), CanChangeTheme()]

    @extend_schema(responses=StatementSerializer)
    def get(self, request: Request) -> Response:
        """The network's accessibility statement; no sign-in needed."""
        return Response(_shown(request))

    @extend_schema(request=StatementInput, responses=StatementSerializer)
    def put(self, request: Request) -> Response:
        """Organisers: set what the statement says, the whole of it (an optional field
        left out is cleared)."""
        form = StatementForm(request.data if isinstance(request.data, dict) else {})
        if not form.is_valid():
            return Response(
                {"detail": "Please correct the input.", "errors": form.errors}, status=400
            )
        accessibility_statement_update(
            network=network_current(),
            actor=acting_member(request),
            **form.cleaned_data,
        )
        return Response(_shown(request))

"""The reports API: the same services as the pages."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import PageNumberPagination

from .models import Category, Outcome, Report, TargetKind
from .selectors import reports_visible
from .services import access_report, report_act, report_create, report_outcomes


class ReportSerializer(serializers.ModelSerializer[Report]):
    subject_name = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(
        choices=Outcome.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty while the report is open.",
    )
    actions = serializers.SerializerMethodField(help_text="What an organiser may do now.")

    class Meta:
        model = Report
        fields = [
            "id",
            "target_kind",
            "target_id",
            "target_summary",
            "category",
            "details",
            "subject_name",
            "status",
            "outcome",
            "outcome_note",
            "created_at",
            "handled_at",
            "actions",
        ]
        read_only_fields = fields

    def get_subject_name(self, report: Report) -> str | None:
        return report.subject.full_name if report.subject is not None else None

    def get_actions(self, report: Report) -> list[str]:
        if report.status != "open" or not self.context.get("organiser"):
            return []
        return [str(outcome) for outcome in report_outcomes(report)]


class ReportInputSerializer(serializers.Serializer[Any]):
    target_kind = serializers.ChoiceField(choices=TargetKind.choices)
    target_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    category = serializers.ChoiceField(choices=Category.choices)
    details = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


class ReportQuerySerializer(serializers.Serializer[Any]):
    handled = serializers.BooleanField(
        required=False, default=False, help_text="Reports dealt with, instead of open ones."
    )


class ReportActInputSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(allow_blank=True, max_length=20_000)


def _organiser(member: object) -> bool:
    return bool(getattr(member, "has_perm", lambda _: False)("safety.moderate_report"))


class ReportListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[ReportQuerySerializer],
        responses=ReportSerializer(many=True),
        description="Organisers: the queue of reports. Anyone else: the reports they made.",
    )
    def get(self, request: Request) -> Response:
        member = acting_member(request)
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        handled = query.validated_data["handled"]
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            reports_visible(member=member, handled=handled), request, self
        )
        context = {"organiser": _organiser(member)}
        return paginator.get_paginated_response(
            ReportSerializer(page, many=True, context=context).data
        )

    @extend_schema(
        request=ReportInputSerializer,
        responses={201: ReportSerializer},
        description="Report a listing, message, profile or exchange you can see. Reporting "
        "the same thing again while your first report is open returns that report.",
    )
    def post(self, request: Request) -> Response:
        member = acting_member(request)
        data = ReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_create(actor=member, **data.validated_data)
        return Response(ReportSerializer(report).data, status=201)


class ReportDetailApi(APIView):
    @extend_schema(responses=ReportSerializer)
    def get(self, request: Request, report_id: int) -> Response:
        member = acting_member(request)
        report = access_report(report_id, member=member)
        return Response(ReportSerializer(report, context={"organiser": _organiser(member)}).data)


class ReportActApi(APIView):
    @extend_schema(
        request=ReportActInputSerializer,
        responses=ReportSerializer,
        description="Organisers: act on an open report (one of its `actions`), with a note.",
    )
    def post(self, request: Request, report_id: int) -> Response:
        member = acting_member(request)
        report = access_report(report_id, member=member)
        data = ReportActInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = report_act(actor=member, report=report, **data.validated_data)
        return Response(ReportSerializer(report, context={"organiser": True}).data)

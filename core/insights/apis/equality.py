"""API for equality monitoring: a member's own answers, and the organisers' report.

There is deliberately no endpoint that takes a member id: answers are only ever the
caller's own, and everyone else's reach the API only as suppressed counts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.insights.models import EqualityAnswers
from core.insights.selectors.equality import QUESTIONS, equality_answers_get, equality_report
from core.insights.services.equality import equality_answers_save, equality_answers_withdraw
from core.members.auth import acting_member
from kernel.errors import NotFound


class EqualityAnswersSerializer(serializers.ModelSerializer[EqualityAnswers]):
    class Meta:
        model = EqualityAnswers
        fields = [*QUESTIONS, "consented_at"]
        read_only_fields = fields


class EqualityInputSerializer(serializers.Serializer[Any]):
    """Shapes only; the service checks the answers against the choices."""

    consent = serializers.BooleanField(
        default=False, help_text="Must be true: the member agrees to how answers are used."
    )
    ethnic_group = serializers.CharField(required=False, allow_blank=True)
    gender = serializers.CharField(required=False, allow_blank=True)
    age_band = serializers.CharField(required=False, allow_blank=True)
    disability = serializers.CharField(required=False, allow_blank=True)
    background = serializers.CharField(required=False, allow_blank=True)


class MyEqualityApi(APIView):
    @extend_schema(responses={200: EqualityAnswersSerializer})
    def get(self, request: Request) -> Response:
        answers = equality_answers_get(member=acting_member(request))
        if answers is None:
            raise NotFound("You have not answered the equality monitoring questions.")
        return Response(EqualityAnswersSerializer(answers).data)

    @extend_schema(request=EqualityInputSerializer, responses={200: EqualityAnswersSerializer})
    def put(self, request: Request) -> Response:
        data = EqualityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = equality_answers_save(actor=acting_member(request), **data.validated_data)
        return Response(EqualityAnswersSerializer(answers).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request) -> Response:
        equality_answers_withdraw(actor=acting_member(request))
        return Response(status=204)


class ReportRowSerializer(serializers.Serializer[Any]):
    """One group; a null figure is suppressed (shown as `*` on the page)."""

    group = serializers.CharField(source="label")
    level = serializers.IntegerField(help_text="-1 all members, 0 a group, 1 a sub-group")
    section = serializers.CharField(help_text="The group a sub-group belongs to")
    members = serializers.IntegerField(allow_null=True)
    active = serializers.IntegerField(allow_null=True)
    hours_given = serializers.FloatField(allow_null=True)
    hours_received = serializers.FloatField(allow_null=True)


class ReportTableSerializer(serializers.Serializer[Any]):
    key = serializers.CharField()
    title = serializers.CharField()
    rows = ReportRowSerializer(many=True)


class EqualityReportSerializer(serializers.Serializer[Any]):
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    tables = ReportTableSerializer(many=True)


class EqualityReportApi(APIView):
    @extend_schema(responses={200: EqualityReportSerializer})
    def get(self, request: Request) -> Response:
        report = equality_report(actor=acting_member(request))
        return Response(EqualityReportSerializer(report).data)

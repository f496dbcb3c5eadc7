"""The learning record in the API: the same selectors and services as the pages."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.errors import ApplicationError, NotFound
from tenants.selectors import network_current, network_url

from .models import REFLECTION_LIMIT, TOPIC_LIMIT, Format, Record, Scheme
from .selectors import RecordEntry, Verdict, cpd_entries, cpd_scheme, cpd_totals, record_verify
from .services import code_format, cpd_note_save, cpd_record_issue, cpd_scheme_set
from .sources import SOURCES
from .throttles import verify_throttle


class RangeSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"start": _("The start date must be on or before the end date.")}
            )
        return attrs


class RowSerializer(serializers.Serializer[Any]):
    """An entry as an issued record keeps it (never a reflection)."""

    date = serializers.DateField()
    minutes = serializers.IntegerField()
    format = serializers.CharField(help_text="in_person, virtual or empty when not known")
    role = serializers.ChoiceField(choices=["gave", "received", "gift"])
    topic = serializers.CharField()
    participatory = serializers.BooleanField()
    counts = serializers.BooleanField(help_text="False for a credit gift: never CPD hours.")


class EntrySerializer(RowSerializer):
    source = serializers.CharField()  # type: ignore[assignment]  # a field named "source"
    source_id = serializers.IntegerField()
    reflection = serializers.CharField(help_text="Yours alone: in no download or check.")


class TotalsSerializer(serializers.Serializer[Any]):
    entries = serializers.IntegerField()
    minutes = serializers.IntegerField()
    participatory_minutes = serializers.IntegerField()


class TargetSerializer(serializers.Serializer[Any]):
    years = serializers.IntegerField()
    minutes = serializers.IntegerField()
    participatory_minutes = serializers.IntegerField()
    reflections = serializers.IntegerField()
    summary = serializers.CharField()


class RecordSerializer(serializers.Serializer[Any]):
    scheme = serializers.ChoiceField(choices=Scheme.choices)
    target = TargetSerializer()
    totals = TotalsSerializer()
    reflections = serializers.IntegerField()
    entries = EntrySerializer(many=True)


def _entry(shown: RecordEntry) -> dict[str, Any]:
    return {
        **shown.row(),
        "source": shown.entry.source,
        "source_id": shown.entry.source_id,
        "reflection": shown.reflection,
    }


class RecordApi(APIView):
    @extend_schema(parameters=[RangeSerializer], responses=RecordSerializer)
    def get(self, request: Request) -> Response:
        """Your learning record in a date range (all of it without one), with its totals
        against your scheme."""
        dates = RangeSerializer(data=request.query_params.dict())
        dates.is_valid(raise_exception=True)
        member = acting_member(request)
        scheme = cpd_scheme(member=member)
        shown = cpd_entries(
            member=member,
            start=dates.validated_data.get("start"),
            end=dates.validated_data.get("end"),
        )
        totals = cpd_totals([e.row() for e in shown], scheme=scheme)
        target = totals.target
        return Response(
            RecordSerializer(
                {
                    "scheme": scheme,
                    "totals": totals.as_dict(),
                    "target": {
                        "years": target.years,
                        "minutes": target.minutes,
                        "participatory_minutes": target.participatory_minutes,
                        "reflections": target.reflections,
                        "summary": str(target.summary),
                    },
                    "reflections": sum(1 for e in shown if e.reflection),
                    "entries": [_entry(e) for e in shown],
                }
            ).data
        )


class SchemeSerializer(serializers.Serializer[Any]):
    scheme = serializers.ChoiceField(choices=Scheme.choices)


class SchemeApi(APIView):
    @extend_schema(responses=SchemeSerializer)
    def get(self, request: Request) -> Response:
        return Response({"scheme": cpd_scheme(member=acting_member(request))})

    @extend_schema(request=SchemeSerializer, responses=SchemeSerializer)
    def put(self, request: Request) -> Response:
        """Choose the scheme your record is measured against."""
        data = SchemeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = cpd_scheme_set(actor=acting_member(request), scheme=data.validated_data["scheme"])
        return Response({"scheme": found.scheme})


class NoteSerializer(serializers.Serializer[Any]):
    reflection = serializers.CharField(
        allow_blank=True, required=False, max_length=REFLECTION_LIMIT
    )
    participatory = serializers.BooleanField(allow_null=True, required=False, default=None)
    topic = serializers.CharField(
        allow_blank=True,
        required=False,
        max_length=TOPIC_LIMIT,
        help_text="Empty: the source's topic.",
    )
    format = serializers.ChoiceField(
        choices=["", *Format.values], required=False, help_text="Empty: as the source says."
    )


class EntryNoteApi(APIView):
    @extend_schema(request=NoteSerializer, responses=NoteSerializer)
    def put(self, request: Request, source: str, source_id: int) -> Response:
        """Your reflection on an entry of your record, and corrections of its format, topic
        or participatory flag. Its date, hours and role come from the exchange or project."""
        if source not in SOURCES:
            raise NotFound(_("No such entry in your record."))
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        note = cpd_note_save(
            actor=acting_member(request), source=source, source_id=source_id, **data.validated_data
        )
        return Response(
            {
                "reflection": note.reflection,
                "participatory": note.participatory,
                "topic": note.topic,
                "format": note.format,
            }
        )


class IssuedSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    verification_url = serializers.URLField()
    member_name = serializers.CharField()
    scheme = serializers.ChoiceField(choices=Scheme.choices)
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    issued_at = serializers.DateTimeField()
    totals = TotalsSerializer()
    rows = RowSerializer(many=True)


def _issued(request: Request, record: Record, totals: dict[str, int]) -> dict[str, Any]:
    code = code_format(record.code)
    return {
        "code": code,
        "member_name": record.member_name,
        "scheme": record.scheme,
        "verification_url": network_url(network_current(), f"/cpd/verify/{code}/"),
        "start": record.starts_on,
        "end": record.ends_on,
        "issued_at": record.issued_at,
        "totals": totals,
        "rows": record.rows,
    }


class RecordIssueApi(APIView):
    # JSON only: every field is optional, so a form body that is not a mapping at all
    # (a bare number) would read as an empty range and be accepted.
    parser_classes = [JSONParser]

    @extend_schema(request=RangeSerializer, responses={201: IssuedSerializer})
    def post(self, request: Request) -> Response:
        """Issue your record for a date range: its rows under a verification code (the same
        rows again return the record already issued). The PDF is at /cpd/record.pdf."""
        data = RangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = cpd_record_issue(actor=acting_member(request), **data.validated_data)
        totals = cpd_totals(record.rows, scheme=record.scheme).as_dict()
        return Response(IssuedSerializer(_issued(request, record, totals)).data, status=201)


class VerificationSerializer(serializers.Serializer[Any]):
    verdict = serializers.ChoiceField(choices=[v.value for v in Verdict])
    record = IssuedSerializer(allow_null=True, help_text="Only when genuine.")


class VerificationApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(responses={200: VerificationSerializer, 429: None})
    def get(self, request: Request, code: str) -> Response:
        """Public: whether the record issued on this network under `code` is genuine and
        unchanged ("genuine", with its rows and totals) or its stored rows no longer match
        their signature ("altered"). Unknown here (another network's too): 404."""
        try:
            verify_throttle(request._request)
        except ApplicationError as refused:
            return Response({"detail": refused.message}, status=refused.status_code)
        verification = record_verify(code=code)
        if verification.verdict is not Verdict.GENUINE:
            return Response({"verdict": verification.verdict.value, "record": None})
        record = _issued(request, verification.record, verification.totals.as_dict())
        return Response(
            VerificationSerializer({"verdict": verification.verdict.value, "record": record}).data
        )

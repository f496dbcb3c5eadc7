"""API: the network map as JSON (every member) and the network metrics (organisers)."""

from __future__ import annotations

import gzip
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.insights.selectors.map import DateRange, DateRangeInvalid, network_map_stored
from core.insights.selectors.metrics import network_metrics_cached
from core.insights.services.map import network_map_request
from core.insights.services.metrics import network_metrics_request
from core.members.auth import acting_member
from kernel.db import connection


class DateRangeSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)
    group = serializers.CharField(required=False, allow_blank=True, max_length=80)


class MapNodeSerializer(serializers.Serializer[Any]):
    id = serializers.CharField(
        help_text="member-<id>, anonymous-<n>, network-<id>, project-<id> or group-<key>"
    )
    kind = serializers.ChoiceField(choices=["member", "anonymous", "network", "project", "group"])
    label = serializers.CharField()  # type: ignore[assignment]
    profession = serializers.CharField()
    organisation = serializers.CharField()
    url = serializers.CharField(required=False)
    group = serializers.CharField(required=False, help_text="A group's key (?group=<key>).")
    members = serializers.IntegerField(required=False, help_text="Members in the group.")
    given_minutes = serializers.IntegerField()
    received_minutes = serializers.IntegerField()
    exchanges = serializers.IntegerField(help_text="Completed exchanges (never volunteering).")
    volunteering = serializers.IntegerField(
        help_text="Confirmations of volunteered project hours (as volunteer or project)."
    )


class MapLinkSerializer(serializers.Serializer[Any]):
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    minutes = serializers.IntegerField()
    count = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=["exchange", "volunteering"],
        help_text="An exchange between two parties, or a volunteer's hours for a project.",
    )


class MapSerializer(serializers.Serializer[Any]):
    nodes = MapNodeSerializer(many=True)
    links = MapLinkSerializer(many=True)
    active_members = serializers.IntegerField(
        help_text="Current members who took part in an exchange or a project in the dates."
    )
    aggregated = serializers.BooleanField(
        help_text="A large network's map: members in groups by profession (see `group`)."
    )
    group = serializers.CharField(help_text='The group shown, "" for the whole map.')


class MapPreparingSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=["preparing"])


class NetworkMapApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("start", str, description="YYYY-MM-DD"),
            OpenApiParameter("end", str, description="YYYY-MM-DD, inclusive"),
            OpenApiParameter("group", str, description="One group of a large map"),
        ],
        responses={
            200: MapSerializer,
            202: MapPreparingSerializer,
            304: OpenApiResponse(description="Not modified (If-None-Match)"),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        """Who helped whom, as every member may see it: completed exchanges, and
        volunteering as lines from volunteers to their projects. Served as stored by the
        metrics task (gzip, with an ETag); 202 while it is being prepared."""
        serializer = DateRangeSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        try:
            dates = DateRange(
                serializer.validated_data.get("start"), serializer.validated_data.get("end")
            )
        except DateRangeInvalid as refused:
            raise ValidationError({refused.field or "start": [refused.message]}) from refused
        acting_member(request)
        row = network_map_stored(
            dates=dates, group=serializer.validated_data.get("group", ""), fields=("etag", "body")
        )
        if row is None:
            network_map_request(connection.schema_name, dates=dates)
            return Response({"status": "preparing"}, status=202, headers={"Retry-After": "5"})
        return map_response(request, etag=row["etag"], body=bytes(row["body"]))


def map_response(request: HttpRequest, *, etag: str, body: bytes) -> HttpResponse:
    """The stored JSON: 304 when the client has it (If-None-Match), else gzipped as stored
    (decompressed for the rare client that does not accept gzip)."""
    quoted = f'"{etag}"'
    headers = {"ETag": quoted, "Vary": "Accept-Encoding", "Cache-Control": "private, no-cache"}
    if quoted in request.headers.get("If-None-Match", ""):
        return HttpResponseNotModified(headers=headers)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        headers["Content-Encoding"] = "gzip"
    else:
        body = gzip.decompress(body)
    return HttpResponse(body, content_type="application/json", headers=headers)


class CanViewNetworkMetrics(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.has_perm("insights.view_network_metrics"))


class NetworkMetricsApi(APIView):
    permission_classes = [CanViewNetworkMetrics]

    @extend_schema(
        responses={
            200: OpenApiResponse(description="The cached metrics"),
            202: OpenApiResponse(description="Being computed"),
        }
    )
    def get(self, request: Request) -> Response:
        """The network's metrics (organisers only); 202 while they are computed."""
        schema = connection.schema_name
        metrics = network_metrics_cached(schema)
        if metrics is None:
            network_metrics_request(schema)
            return Response({"status": "computing"}, status=202)
        return Response(metrics)

"""API: the network map as JSON (every member) and the network metrics (organisers)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hexitime.auth import acting_member
from hexitime.db import connection

from .metrics_store import network_metrics_cached
from .network_map import DateRange, map_payload
from .sources import network_edges
from .tasks import network_metrics_request


class DateRangeSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, allow_null=True)
    end = serializers.DateField(required=False, allow_null=True)


class MapNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="member-<id>, anonymous-<n>, network-<id> or project-<id>")
    kind = serializers.ChoiceField(choices=["member", "anonymous", "network", "project"])
    label = serializers.CharField()  # type: ignore[assignment]
    profession = serializers.CharField()
    organisation = serializers.CharField()
    url = serializers.CharField(required=False)
    you = serializers.BooleanField(required=False)
    given_minutes = serializers.IntegerField()
    received_minutes = serializers.IntegerField()
    exchanges = serializers.IntegerField(help_text="Completed exchanges (never volunteering).")
    volunteering = serializers.IntegerField(
        help_text="Confirmations of volunteered project hours (as volunteer or project)."
    )


class MapLinkSerializer(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]
    target = serializers.CharField()
    minutes = serializers.IntegerField()
    count = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=["exchange", "volunteering"],
        help_text="An exchange between two parties, or a volunteer's hours for a project.",
    )


class MapSerializer(serializers.Serializer):
    nodes = MapNodeSerializer(many=True)
    links = MapLinkSerializer(many=True)
    active_members = serializers.IntegerField(
        help_text="Current members who took part in an exchange or a project in the dates."
    )


class NetworkMapApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("start", str, description="YYYY-MM-DD"),
                    OpenApiParameter("end", str, description="YYYY-MM-DD, inclusive")],
        responses=MapSerializer,
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        """Who helped whom, as the signed-in member may see it: completed exchanges, and
        volunteering as lines from volunteers to their projects."""
        serializer = DateRangeSerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        dates = DateRange(serializer.validated_data.get("start"),
                          serializer.validated_data.get("end"))  # fmt: skip
        return Response(
            map_payload(viewer=acting_member(request), edges=network_edges(dates=dates))
        )


class CanViewNetworkMetrics(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("insights.view_network_metrics"))


class NetworkMetricsApi(APIView):
    permission_classes = [CanViewNetworkMetrics]

    @extend_schema(responses={200: OpenApiResponse(description="The cached metrics"),
                              202: OpenApiResponse(description="Being computed")})  # fmt: skip
    def get(self, request: Request) -> Response:
        """The network's metrics (organisers only); 202 while they are computed."""
        schema = connection.schema_name
        metrics = network_metrics_cached(schema)
        if metrics is None:
            network_metrics_request(schema)
            return Response({"status": "computing"}, status=202)
        return Response(metrics)

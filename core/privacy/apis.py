from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member

from .services import member_close, member_data_export


class MyDataApi(APIView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Everything the network holds about you: data.json and a CSV "
                "file per section.",
            )
        }
    )
    def get(self, request: Request) -> HttpResponse:
        archive = member_data_export(actor=acting_member(request))
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="hexitime-my-data.zip"'
        return response


class CloseAccountApi(APIView):
    class CloseInputSerializer(serializers.Serializer[Any]):
        password = serializers.CharField(
            trim_whitespace=False, help_text="Your current password, to be sure it is you."
        )

    class ClosedSerializer(serializers.Serializer[Any]):
        state = serializers.CharField()

    @extend_schema(request=CloseInputSerializer, responses=ClosedSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.CloseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = member_close(
            actor=acting_member(request), password=serializer.validated_data["password"]
        )
        return Response({"state": member.state})

"""The network's own API about itself (served on each network's host)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from core.members.places import plan_usage

from .selectors import network_current

# Who may see the network's plan and its use (organisers: core.members.backends).
PERMISSION = "tenants.view_plan"


class CanViewPlan(BasePermission):
    message = "Only the network's organisers can see its plan."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return bool(user.is_authenticated and acting_member(request).has_perm(PERMISSION))


class PlanApi(APIView):
    """The network's plan, how many members it has and may have, and what the plan
    includes."""

    permission_classes = [CanViewPlan]

    class PlanSerializer(serializers.Serializer[Any]):
        plan = serializers.CharField()
        plan_label = serializers.CharField()
        members = serializers.IntegerField()
        member_limit = serializers.IntegerField(allow_null=True, help_text="null: no limit")
        places_left = serializers.IntegerField(allow_null=True, help_text="null: no limit")
        federation = serializers.BooleanField(help_text="Whether the plan allows federation.")
        custom_domains = serializers.BooleanField()

    @extend_schema(responses=PlanSerializer)
    def get(self, request: Request) -> Response:
        usage = plan_usage(network=network_current())
        return Response(self.PlanSerializer(usage).data)

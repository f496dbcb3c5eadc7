from __future__ import annotations

from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member

from .selectors import member_balance, member_statement, network_totals
from .services import minutes_as_text


class BalanceApi(APIView):
    class BalanceSerializer(serializers.Serializer[Any]):
        minutes = serializers.IntegerField()
        text = serializers.CharField()

    @extend_schema(responses=BalanceSerializer)
    def get(self, request: Request) -> Response:
        minutes = member_balance(member=acting_member(request))
        return Response({"minutes": minutes, "text": minutes_as_text(minutes)})


class StatementLineSerializer(serializers.Serializer[Any]):
    entry_id = serializers.IntegerField()
    sequence = serializers.IntegerField(help_text="Posting order in the account; the page key.")
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    memo = serializers.CharField()
    minutes = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    counterparty = serializers.CharField(
        help_text="The other member of an exchange or gift here, or empty; “A former member” "
        "once they have closed their account."
    )
    description = serializers.CharField(
        help_text="What the line was: “Gift from …”, “Gift to …”, “Exchange with …”."
    )


class StatementPageSerializer(serializers.Serializer[Any]):
    results = StatementLineSerializer(many=True)
    next_before = serializers.IntegerField(allow_null=True)


class StatementApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "before", int, description="sequence of the last line seen: the page before it"
            ),
            OpenApiParameter("limit", int, description="1-200, default 50"),
        ],
        responses=StatementPageSerializer,
    )
    def get(self, request: Request) -> Response:
        params = _StatementParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        limit = params.validated_data["limit"]
        lines = member_statement(
            member=acting_member(request),
            limit=limit + 1,
            before=params.validated_data.get("before"),
        )
        page = lines[:limit]
        return Response(
            {
                "results": StatementLineSerializer(
                    [{**asdict(line), "description": line.description} for line in page],
                    many=True,
                ).data,
                "next_before": page[-1].sequence if len(lines) > limit else None,
            }
        )


class _StatementParams(serializers.Serializer[Any]):
    before = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=200, default=50)


class CanViewNetworkTotals(BasePermission):
    message = "Only the network's organisers can see its totals."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.has_perm("ledger.view_network_totals"))


class NetworkTotalsApi(APIView):
    permission_classes = [CanViewNetworkTotals]

    class NetworkTotalsSerializer(serializers.Serializer[Any]):
        issued = serializers.IntegerField(help_text="Minutes ever issued, net of reversals.")
        held_by_members = serializers.IntegerField()
        held_by_projects = serializers.IntegerField(help_text="Project budgets not yet paid.")
        held_by_pot = serializers.IntegerField(help_text="Given to the community pot, not granted.")
        federation_position = serializers.IntegerField(
            help_text="The federation clearing account: negative when members earned more "
            "from partner networks than they spent there."
        )
        held = serializers.IntegerField(
            help_text="Members + projects + community pot + federation position."
        )
        balanced = serializers.BooleanField(help_text="Whether issued equals held.")
        members_with_credit = serializers.IntegerField()
        exchanged = serializers.IntegerField(help_text="Minutes moved between members.")
        exchanges = serializers.IntegerField()
        transfers = serializers.IntegerField()

    @extend_schema(responses=NetworkTotalsSerializer)
    def get(self, request: Request) -> Response:
        totals = network_totals()
        return Response({**asdict(totals), "held": totals.held, "balanced": totals.balanced})

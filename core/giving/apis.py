"""The giving API: the same services as the pages. A gift's key is the request's
`Idempotency-Key` header when it has one (so a retry gives once, even after the kept answer
has expired), else the body's `key`, else one made for this request."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from core.projects.selectors import access_project

from .models import Gift
from .selectors import (
    access_gift_recipient,
    gift_allowance,
    giving_settings,
    member_gifts,
    pot_summary,
)
from .services import gift_give, giving_settings_update, pot_grant


class GiftSerializer(serializers.ModelSerializer[Gift]):
    """A gift made; minutes throughout (60 = one hour of credit)."""

    recipient_id = serializers.IntegerField(read_only=True, allow_null=True)
    project_id = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Gift
        fields = [
            "id",
            "kind",
            "minutes",
            "message",
            "key",
            "recipient_id",
            "project_id",
            "created_at",
        ]
        read_only_fields = fields


class GiftInputSerializer(serializers.Serializer[Any]):
    """Shapes only; the rules (quarter hours, limits, credit) live in the service."""

    minutes = serializers.IntegerField(help_text="Whole minutes in 15-minute steps.")
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20_000,
        help_text="Seen only by the receiver (a project's lead), up to 500 characters.",
    )
    key = serializers.CharField(
        required=False,
        max_length=255,
        help_text="Your name for this gift (the Idempotency-Key header wins): the same key "
        "again gives once.",
    )


def _key(request: Request, data: dict[str, Any]) -> str:
    return request.headers.get("Idempotency-Key") or data.get("key") or uuid.uuid4().hex


def _give(request: Request, **target: Any) -> Response:
    data = GiftInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fields = data.validated_data
    gift = gift_give(
        actor=acting_member(request),
        minutes=fields["minutes"],
        message=fields.get("message", ""),
        key=_key(request, fields),
        **target,
    )
    return Response(GiftSerializer(gift).data, status=201)


class GiftToMemberApi(APIView):
    @extend_schema(request=GiftInputSerializer, responses={201: GiftSerializer})
    def post(self, request: Request, member_id: int) -> Response:
        """Give some of your credit to another member of this network."""
        recipient = access_gift_recipient(member_id, member=acting_member(request))
        return _give(request, recipient=recipient)


class GiftToProjectApi(APIView):
    @extend_schema(request=GiftInputSerializer, responses={201: GiftSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        """Give some of your credit to a funded QI project's budget."""
        project = access_project(project_id, member=acting_member(request))
        return _give(request, project=project)


class GiftToPotApi(APIView):
    @extend_schema(request=GiftInputSerializer, responses={201: GiftSerializer})
    def post(self, request: Request) -> Response:
        """Give some of your credit to the network's community pot."""
        return _give(request)


class GiftLineSerializer(serializers.Serializer[Any]):
    created_at = serializers.DateTimeField()
    direction = serializers.ChoiceField(choices=["given", "received"])
    minutes = serializers.IntegerField()
    counterpart = serializers.CharField()
    message = serializers.CharField(help_text="The giver's message, or a grant's reason.")


class GiftListApi(APIView):
    class RangeSerializer(serializers.Serializer[Any]):
        start = serializers.DateField(required=False, help_text="First day, included.")
        end = serializers.DateField(required=False, help_text="Last day, included.")

    @extend_schema(parameters=[RangeSerializer], responses=GiftLineSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The gifts you gave and received, oldest first."""
        dates = self.RangeSerializer(data=request.query_params.dict())
        dates.is_valid(raise_exception=True)
        lines = member_gifts(member=acting_member(request), **dates.validated_data)
        return Response(GiftLineSerializer([asdict(line) for line in lines], many=True).data)


class AllowanceApi(APIView):
    class AllowanceSerializer(serializers.Serializer[Any]):
        limit_minutes = serializers.IntegerField(help_text="Most you may give a month.")
        given_minutes = serializers.IntegerField(help_text="Given this calendar month.")
        remaining_minutes = serializers.IntegerField()

    @extend_schema(responses=AllowanceSerializer)
    def get(self, request: Request) -> Response:
        allowance = gift_allowance(member=acting_member(request))
        return Response({**asdict(allowance), "remaining_minutes": allowance.remaining_minutes})


class GrantLineSerializer(serializers.Serializer[Any]):
    created_at = serializers.DateTimeField()
    minutes = serializers.IntegerField()
    recipient = serializers.CharField(help_text="Empty unless you manage the pot.")
    reason = serializers.CharField(help_text="Empty unless you manage the pot.")


class PotApi(APIView):
    class PotSerializer(serializers.Serializer[Any]):
        balance_minutes = serializers.IntegerField()
        limit_minutes = serializers.IntegerField(help_text="Most granted a calendar month.")
        granted_minutes = serializers.IntegerField(help_text="Granted this month.")
        remaining_minutes = serializers.IntegerField()
        received_minutes = serializers.IntegerField(help_text="Given to the pot this month.")
        recent = GrantLineSerializer(many=True)

    @extend_schema(responses=PotSerializer)
    def get(self, request: Request) -> Response:
        """The community pot: its balance, this month's grants and the latest grants."""
        pot = pot_summary(viewer=acting_member(request))
        return Response(
            self.PotSerializer({**asdict(pot), "remaining_minutes": pot.remaining_minutes}).data
        )


class CanManagePot(BasePermission):
    message = "Only the network's organisers can do this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.has_perm("giving.manage_pot"))


class PotGrantApi(APIView):
    permission_classes = [CanManagePot]

    class GrantSerializer(serializers.Serializer[Any]):
        member_id = serializers.IntegerField()
        minutes = serializers.IntegerField(help_text="Whole minutes in 15-minute steps.")
        reason = serializers.CharField(
            allow_blank=True, max_length=20_000, help_text="Why; the member sees it. Required."
        )
        key = serializers.CharField(required=False, max_length=255)

    @extend_schema(request=GrantSerializer, responses={201: GiftSerializer})
    def post(self, request: Request) -> Response:
        """Organisers: grant from the community pot to a member, saying why."""
        member = acting_member(request)
        data = self.GrantSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        gift = pot_grant(
            actor=member,
            recipient=access_gift_recipient(fields["member_id"], member=member),
            minutes=fields["minutes"],
            reason=fields["reason"],
            key=_key(request, fields),
        )
        return Response(GiftSerializer(gift).data, status=201)


class LimitsSerializer(serializers.Serializer[Any]):
    member_monthly_minutes = serializers.IntegerField(
        help_text="Most a member may give a calendar month; 15-minute steps, 0 to 6000."
    )
    pot_monthly_minutes = serializers.IntegerField(
        help_text="Most granted from the pot a calendar month; 15-minute steps, 0 to 6000."
    )


class GivingSettingsApi(APIView):
    permission_classes = [CanManagePot]

    @extend_schema(responses=LimitsSerializer)
    def get(self, request: Request) -> Response:
        return Response(LimitsSerializer(giving_settings()).data)

    @extend_schema(request=LimitsSerializer, responses=LimitsSerializer)
    def put(self, request: Request) -> Response:
        """Organisers: set the monthly limits on giving and on grants from the pot."""
        data = LimitsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        limits = giving_settings_update(actor=acting_member(request), **data.validated_data)
        return Response(LimitsSerializer(limits).data)

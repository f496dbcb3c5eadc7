"""The joining API: asking to join, verifying an address, joining through an invitation,
and the organisers' approvals and invitations."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.apis import CanApprove, MemberStateSerializer
from core.members.auth import acting_member
from core.members.selectors import approval_queue, invitation_list
from core.members.services import JoinRefused, access_member
from core.members.throttles import join_throttle
from kernel.api import ErrorSerializer

from .services import (
    INVITATIONS_MAX,
    invitation_accept,
    invitation_resend,
    invitation_revoke,
    invitations_csv_read,
    invitations_send,
    member_approve,
    member_decline,
    member_join,
    member_verify_email,
)
from .sign_in import password_sign_in_allowed

JOIN_ANSWER = "Check your email: we have sent a message to the address you gave."


class JoinAnswerSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField()


class JoinApi(APIView):
    permission_classes = [AllowAny]

    class JoinInputSerializer(serializers.Serializer[Any]):
        email = serializers.CharField(max_length=254)
        full_name = serializers.CharField(max_length=1000)
        password = serializers.CharField(max_length=1000)
        profession = serializers.CharField(max_length=16, required=False, allow_blank=True)
        organisation = serializers.CharField(max_length=1000, required=False, allow_blank=True)

    @extend_schema(
        request=JoinInputSerializer,
        responses={202: JoinAnswerSerializer, 429: ErrorSerializer},  # 429: too many asked
    )
    def post(self, request: Request) -> Response:
        """Ask to join this network. The answer is the same whether or not the address is
        registered here: a verification link is emailed to a new address, and the owner of
        a registered one is told someone asked."""
        serializer = self.JoinInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not password_sign_in_allowed():
            raise JoinRefused(
                _(
                    "This network has no passwords: join by signing in through its "
                    "identity provider."
                )
            )
        join_throttle(request)
        member_join(**serializer.validated_data)
        return Response({"detail": JOIN_ANSWER}, status=202)


class VerifyApi(APIView):
    permission_classes = [AllowAny]

    class VerifyInputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField(max_length=1000)

    @extend_schema(request=VerifyInputSerializer, responses=MemberStateSerializer)
    def post(self, request: Request) -> Response:
        serializer = self.VerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = member_verify_email(**serializer.validated_data)
        return Response(MemberStateSerializer(member).data)


class ApprovalQueueApi(APIView):
    permission_classes = [CanApprove]

    @extend_schema(responses=MemberStateSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(MemberStateSerializer(approval_queue(), many=True).data)


class ApproveApi(APIView):
    @extend_schema(request=None, responses=MemberStateSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        actor = acting_member(request)
        member = member_approve(actor=actor, member=access_member(member_id, member=actor))
        return Response(MemberStateSerializer(member).data)


class DeclineApi(APIView):
    class DeclineInputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(allow_blank=True, max_length=20_000)

    @extend_schema(request=DeclineInputSerializer, responses=MemberStateSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        actor = acting_member(request)
        serializer = self.DeclineInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = member_decline(
            actor=actor, member=access_member(member_id, member=actor), **serializer.validated_data
        )
        return Response(MemberStateSerializer(member).data)


class InvitationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = serializers.CharField()
    sent_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    expired = serializers.BooleanField()


class InvitationsSentSerializer(serializers.Serializer[Any]):
    invited = InvitationSerializer(many=True)
    resent = InvitationSerializer(many=True)
    already_members = serializers.ListField(child=serializers.EmailField())


class InvitedPersonSerializer(serializers.Serializer[Any]):
    email = serializers.CharField(max_length=1000)
    name = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    role = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="member, qi_lead or organiser"
    )


class InvitationsApi(APIView):
    permission_classes = [CanApprove]
    parser_classes = [JSONParser, MultiPartParser]

    class InviteInputSerializer(serializers.Serializer[Any]):
        people = serializers.ListField(
            child=InvitedPersonSerializer(), required=False, max_length=INVITATIONS_MAX
        )
        file = serializers.FileField(
            required=False, help_text="multipart/form-data: a CSV of name, email, optional role"
        )

    @extend_schema(responses=InvitationSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The invitations not yet used or withdrawn (organisers)."""
        return Response(InvitationSerializer(invitation_list(), many=True).data)

    @extend_schema(request=InviteInputSerializer, responses={201: InvitationsSentSerializer})
    def post(self, request: Request) -> Response:
        """Invite people: `people` as JSON, or a CSV `file`. One bad entry refuses all."""
        serializer = self.InviteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "file" in serializer.validated_data:
            people = invitations_csv_read(serializer.validated_data["file"])
        else:
            people = [
                (e.get("name", ""), e["email"], e.get("role", ""))
                for e in serializer.validated_data.get("people", [])
            ]
        sent = invitations_send(actor=acting_member(request), people=people)
        return Response(InvitationsSentSerializer(sent).data, status=201)


class InvitationApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, invitation_id: int) -> Response:
        """Withdraw an invitation (organisers): its link stops working."""
        invitation_revoke(actor=acting_member(request), invitation_id=invitation_id)
        return Response(status=204)


class InvitationResendApi(APIView):
    @extend_schema(request=None, responses=InvitationSerializer)
    def post(self, request: Request, invitation_id: int) -> Response:
        """Send an invitation again with a new link and expiry (organisers)."""
        invitation = invitation_resend(actor=acting_member(request), invitation_id=invitation_id)
        return Response(InvitationSerializer(invitation).data)


class InvitationAcceptApi(APIView):
    permission_classes = [AllowAny]

    class AcceptInputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField(max_length=1000)
        full_name = serializers.CharField(max_length=1000)
        password = serializers.CharField(max_length=1000)

    @extend_schema(request=AcceptInputSerializer, responses={201: MemberStateSerializer})
    def post(self, request: Request) -> Response:
        """Join through an invitation's token in one step, whatever the join policy."""
        serializer = self.AcceptInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = invitation_accept(**serializer.validated_data)
        return Response(MemberStateSerializer(member).data, status=201)

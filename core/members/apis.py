from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hexitime.auth import acting_member
from hexitime.errors import PermissionDenied

from .models import Member, Profession
from .selectors import (
    access_member,
    access_member_for_organiser,
    member_directory,
    pending_members,
    profile_view,
)
from .services import (
    member_approve,
    member_decline,
    member_join,
    member_role_set,
    profile_update,
)


class ProfileOutputSerializer(serializers.Serializer):
    """A profile as the caller may see it: optional fields are absent when hidden."""

    id = serializers.IntegerField()
    full_name = serializers.CharField()
    profession = serializers.CharField()
    profession_label = serializers.CharField()
    role = serializers.CharField()
    skills = serializers.ListField(child=serializers.CharField())
    role_grade = serializers.CharField(required=False, allow_null=True)
    organisation = serializers.CharField(required=False, allow_null=True)
    bio = serializers.CharField(required=False, allow_null=True)
    photo = serializers.CharField(required=False, allow_null=True)
    availability = serializers.CharField(required=False, allow_null=True)
    preferred_formats = serializers.ListField(
        child=serializers.CharField(), required=False, allow_null=True
    )
    location = serializers.CharField(required=False, allow_null=True)


class ProfileInputSerializer(serializers.Serializer):
    """Shapes only; the rules (lengths, plain text, choices, image checks) live in the service."""

    full_name = serializers.CharField(required=False, max_length=20_000)
    profession = serializers.CharField(required=False, allow_blank=True)
    role_grade = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    organisation = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    skills = serializers.ListField(child=serializers.CharField(), required=False)
    bio = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    photo = serializers.FileField(required=False)
    remove_photo = serializers.BooleanField(required=False)
    availability = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    preferred_formats = serializers.ListField(child=serializers.CharField(), required=False)
    location = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    visible_fields = serializers.ListField(child=serializers.CharField(), required=False)


class MemberListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("skill", str), OpenApiParameter("profession", str)],
        responses=ProfileOutputSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        viewer = acting_member(request)
        members = member_directory(
            skill=request.query_params.get("skill", ""),
            profession=request.query_params.get("profession", ""),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(members, request, self) or []
        return paginator.get_paginated_response(
            [profile_view(subject=subject, viewer=viewer) for subject in page]
        )


class MemberDetailApi(APIView):
    @extend_schema(responses=ProfileOutputSerializer)
    def get(self, request: Request, member_id: int) -> Response:
        viewer = acting_member(request)
        subject = access_member(member_id, member=viewer)
        return Response(profile_view(subject=subject, viewer=viewer))


class MyProfileApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=ProfileOutputSerializer)
    def get(self, request: Request) -> Response:
        member = acting_member(request)
        return Response(profile_view(subject=member, viewer=member) | {
            "visible_fields": member.visible_fields})  # fmt: skip

    @extend_schema(request=ProfileInputSerializer, responses=ProfileOutputSerializer)
    def patch(self, request: Request) -> Response:
        data = ProfileInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = profile_update(actor=acting_member(request), **data.validated_data)
        return Response(profile_view(subject=member, viewer=member) | {
            "visible_fields": member.visible_fields})  # fmt: skip


class JoinApi(APIView):
    """Sign up to this network under its join policy; a verification link is emailed."""

    permission_classes = [AllowAny]

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        full_name = serializers.CharField(max_length=20_000)
        password = serializers.CharField(max_length=4096)
        profession = serializers.ChoiceField(choices=Profession.choices, required=False)
        organisation = serializers.CharField(required=False, allow_blank=True, max_length=150)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        approval = serializers.CharField()
        email_verified = serializers.BooleanField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_join(**data.validated_data)
        return Response(
            {"id": member.pk, "approval": member.approval, "email_verified": False}, status=201
        )


class MembershipOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()
    approval = serializers.CharField()
    decline_reason = serializers.CharField()


def _membership(member: Member) -> dict[str, object]:
    return {"id": member.pk, "full_name": member.full_name, "email": member.email,
            "role": member.role, "approval": member.approval,
            "decline_reason": member.decline_reason}  # fmt: skip


class PendingMembersApi(APIView):
    """Organisers: people waiting for approval, oldest first."""

    @extend_schema(responses=MembershipOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        actor = acting_member(request)
        if actor.role != Member.Role.ORGANISER:
            raise PermissionDenied("Only the network's organisers can do that.")
        return Response([_membership(m) for m in pending_members()])


class MemberApproveApi(APIView):
    @extend_schema(request=None, responses=MembershipOutputSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        actor = acting_member(request)
        member = access_member_for_organiser(member_id, actor=actor)
        return Response(_membership(member_approve(actor=actor, member=member)))


class MemberDeclineApi(APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500)

    @extend_schema(request=InputSerializer, responses=MembershipOutputSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        actor = acting_member(request)
        member = access_member_for_organiser(member_id, actor=actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_decline(actor=actor, member=member, reason=data.validated_data["reason"])
        return Response(_membership(member))


class MemberRoleApi(APIView):
    class InputSerializer(serializers.Serializer):
        role = serializers.CharField()

    @extend_schema(request=InputSerializer, responses=MembershipOutputSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        actor = acting_member(request)
        member = access_member_for_organiser(member_id, actor=actor)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_role_set(actor=actor, member=member, role=data.validated_data["role"])
        return Response(_membership(member))

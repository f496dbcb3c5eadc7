from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import PageNumberPagination

from .models import Member
from .selectors import member_blocks, profile_shown_in_full
from .services import (
    access_member,
    member_block,
    member_deactivate,
    member_profile_update,
    member_reactivate,
    member_set_role,
    member_unblock,
)


class MemberStateSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    state = serializers.CharField()
    role = serializers.CharField()
    profession = serializers.CharField()
    organisation = serializers.CharField()


class ProfileSerializer(serializers.Serializer[Any]):
    """A profile as the viewer may see it: the private fields are null when hidden."""

    id = serializers.IntegerField()
    full_name = serializers.CharField()
    profession = serializers.CharField()
    organisation = serializers.CharField()
    role = serializers.CharField()
    job_title = serializers.CharField(allow_null=True)
    skills = serializers.ListField(child=serializers.CharField(), allow_null=True)
    bio = serializers.CharField(allow_null=True)
    availability = serializers.CharField(allow_null=True)
    preferred_formats = serializers.ListField(child=serializers.CharField(), allow_null=True)
    location = serializers.CharField(allow_null=True)
    profile_visibility = serializers.CharField(allow_null=True)
    show_on_map = serializers.BooleanField(allow_null=True)
    photo = serializers.CharField(allow_null=True, help_text="URL of the photo, if any")


_PUBLIC = ("id", "full_name", "profession", "organisation", "role")
_PRIVATE = (
    "job_title",
    "skills",
    "bio",
    "availability",
    "preferred_formats",
    "location",
    "profile_visibility",
    "show_on_map",
)


def _profile(member: Member, *, full: bool) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(member, name) for name in _PUBLIC}
    data.update({name: getattr(member, name) if full else None for name in _PRIVATE})
    data["photo"] = member.photo.url if full and member.photo else None
    return dict(ProfileSerializer(data).data)


class ProfileUpdateSerializer(serializers.Serializer[Any]):
    """Shapes only; the rules live in `member_profile_update`."""

    full_name = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    profession = serializers.CharField(required=False, allow_blank=True)
    job_title = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    organisation = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    skills = serializers.ListField(
        child=serializers.CharField(max_length=1000), required=False, max_length=200
    )
    bio = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    availability = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    preferred_formats = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=10
    )
    location = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    profile_visibility = serializers.CharField(required=False)
    show_on_map = serializers.BooleanField(required=False)
    photo = serializers.FileField(required=False, help_text="multipart/form-data only")
    remove_photo = serializers.BooleanField(required=False)


class MyProfileApi(APIView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request) -> Response:
        return Response(_profile(acting_member(request), full=True))

    @extend_schema(request=ProfileUpdateSerializer, responses=ProfileSerializer)
    def patch(self, request: Request) -> Response:
        serializer = ProfileUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = member_profile_update(actor=acting_member(request), **serializer.validated_data)
        return Response(_profile(member, full=True))


class ProfileApi(APIView):
    @extend_schema(responses=ProfileSerializer)
    def get(self, request: Request, member_id: int) -> Response:
        viewer = acting_member(request)
        member = access_member(member_id, member=viewer)
        return Response(_profile(member, full=profile_shown_in_full(viewer=viewer, member=member)))


class BlockSerializer(serializers.Serializer[Any]):
    member_id = serializers.IntegerField(source="blocked_id")
    member_name = serializers.CharField(source="blocked.full_name")
    created_at = serializers.DateTimeField()


class BlockListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=BlockSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The members you blocked, latest first (never who blocked you)."""
        member = acting_member(request)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(member_blocks(member=member), request, self)
        return paginator.get_paginated_response(BlockSerializer(page, many=True).data)


class BlockApi(APIView):
    @extend_schema(request=None, responses={201: BlockSerializer})
    def post(self, request: Request, member_id: int) -> Response:
        """Block a member: no responses, messages or bookings between you, and neither
        sees the other's listings. They are not told. Blocking again changes nothing."""
        actor = acting_member(request)
        block = member_block(actor=actor, member=access_member(member_id, member=actor))
        return Response(BlockSerializer(block).data, status=201)


class UnblockApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, member_id: int) -> Response:
        """Lift your block of a member."""
        actor = acting_member(request)
        member_unblock(actor=actor, member=access_member(member_id, member=actor))
        return Response(status=204)


class CanApprove(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.has_perm("members.approve_member"))


class RoleApi(APIView):
    class RoleInputSerializer(serializers.Serializer[Any]):
        role = serializers.CharField()

    @extend_schema(request=RoleInputSerializer, responses=MemberStateSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        actor = acting_member(request)
        serializer = self.RoleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = member_set_role(
            actor=actor, member=access_member(member_id, member=actor), **serializer.validated_data
        )
        return Response(MemberStateSerializer(member).data)


class DeactivateApi(APIView):
    class DeactivateInputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(required=False, allow_blank=True, max_length=20_000)

    @extend_schema(request=DeactivateInputSerializer, responses=MemberStateSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        """Deactivate a member (organisers): sign-in refused, everything kept."""
        actor = acting_member(request)
        serializer = self.DeactivateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        member = member_deactivate(
            actor=actor, member=access_member(member_id, member=actor), **serializer.validated_data
        )
        return Response(MemberStateSerializer(member).data)


class ReactivateApi(APIView):
    @extend_schema(request=None, responses=MemberStateSerializer)
    def post(self, request: Request, member_id: int) -> Response:
        """Let a deactivated member sign in again (organisers)."""
        actor = acting_member(request)
        member = member_reactivate(actor=actor, member=access_member(member_id, member=actor))
        return Response(MemberStateSerializer(member).data)

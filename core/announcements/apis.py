"""The announcements API: the same services as the pages. Members list what reached them
and dismiss; organisers write drafts, send or schedule them, cancel, and read delivery."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import PageNumberPagination
from kernel.errors import NotFound

from .models import BODY_MAX, TITLE_MAX, Announcement, Audience, Recipient
from .selectors import access_announcement, announcement_list, member_announcements
from .services import (
    announcement_cancel,
    announcement_create,
    announcement_dismiss,
    announcement_send,
)


class MemberAnnouncementSerializer(serializers.ModelSerializer[Recipient]):
    id = serializers.IntegerField(source="announcement_id", read_only=True)
    title = serializers.CharField(source="announcement.title", read_only=True)
    body = serializers.CharField(source="announcement.body", read_only=True)
    sent_at = serializers.DateTimeField(source="announcement.sent_at", read_only=True)
    dismissed = serializers.SerializerMethodField()

    class Meta:
        model = Recipient
        fields = ["id", "title", "body", "sent_at", "dismissed"]
        read_only_fields = fields

    def get_dismissed(self, recipient: Recipient) -> bool:
        return recipient.dismissed_at is not None


class DeliverySerializer(serializers.Serializer[Any]):
    reached = serializers.IntegerField(source="reached_count", default=0)
    not_emailed = serializers.IntegerField(source="not_emailed_count", default=0)
    pending = serializers.IntegerField(source="pending_count", default=0)
    sent = serializers.IntegerField(source="sent_count", default=0)
    failed = serializers.IntegerField(source="failed_count", default=0)
    bounced = serializers.IntegerField(source="bounced_count", default=0)


class OrganiserAnnouncementSerializer(serializers.ModelSerializer[Announcement]):
    delivery = DeliverySerializer(source="*", read_only=True)

    class Meta:
        model = Announcement
        fields = [
            "id",
            "title",
            "body",
            "audience",
            "audience_value",
            "state",
            "send_at",
            "sent_at",
            "created_at",
            "delivery",
        ]
        read_only_fields = fields


class AnnouncementInputSerializer(serializers.Serializer[Any]):
    """Shapes only; the rules live in the service."""

    title = serializers.CharField(max_length=TITLE_MAX)
    body = serializers.CharField(max_length=BODY_MAX)
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.ALL)
    audience_value = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=150,
        default="",
        help_text="The role, profession (their codes) or organisation the audience names.",
    )


class SendInputSerializer(serializers.Serializer[Any]):
    send_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When to send it; empty or past: now.",
    )


class MemberAnnouncementListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=MemberAnnouncementSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The announcements sent to you, newest first, with whether you dismissed each."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            member_announcements(member=acting_member(request)), request, self
        )
        return paginator.get_paginated_response(MemberAnnouncementSerializer(page, many=True).data)


class AnnouncementDismissApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, announcement_id: int) -> Response:
        """Stop showing an announcement on your home page (again: no change)."""
        member = acting_member(request)
        if not announcement_dismiss(actor=member, announcement_id=announcement_id) and not (
            member_announcements(member=member).filter(announcement_id=announcement_id).exists()
        ):
            raise NotFound("No such announcement.")
        return Response(status=204)


class OrganiserAnnouncementListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=OrganiserAnnouncementSerializer(many=True))
    def get(self, request: Request) -> Response:
        """Organisers: every announcement of the network with its delivery counts."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            announcement_list(actor=acting_member(request)), request, self
        )
        return paginator.get_paginated_response(
            OrganiserAnnouncementSerializer(page, many=True).data
        )

    @extend_schema(
        request=AnnouncementInputSerializer, responses={201: OrganiserAnnouncementSerializer}
    )
    def post(self, request: Request) -> Response:
        """Organisers: write a draft announcement (send it with `.../send/`)."""
        data = AnnouncementInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        announcement = announcement_create(actor=acting_member(request), **data.validated_data)
        return Response(OrganiserAnnouncementSerializer(announcement).data, status=201)


class OrganiserAnnouncementDetailApi(APIView):
    @extend_schema(responses=OrganiserAnnouncementSerializer)
    def get(self, request: Request, announcement_id: int) -> Response:
        """Organisers: one announcement with its delivery counts."""
        announcement = access_announcement(announcement_id, member=acting_member(request))
        return Response(OrganiserAnnouncementSerializer(announcement).data)


class OrganiserAnnouncementSendApi(APIView):
    @extend_schema(request=SendInputSerializer, responses=OrganiserAnnouncementSerializer)
    def post(self, request: Request, announcement_id: int) -> Response:
        """Organisers: send a draft now, or schedule it for `send_at`."""
        member = acting_member(request)
        announcement = access_announcement(announcement_id, member=member)
        data = SendInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        announcement_send(actor=member, announcement=announcement, **data.validated_data)
        fresh = access_announcement(announcement_id, member=member)
        return Response(OrganiserAnnouncementSerializer(fresh).data)


class OrganiserAnnouncementCancelApi(APIView):
    @extend_schema(request=None, responses=OrganiserAnnouncementSerializer)
    def post(self, request: Request, announcement_id: int) -> Response:
        """Organisers: cancel a draft or scheduled announcement."""
        member = acting_member(request)
        announcement = access_announcement(announcement_id, member=member)
        announcement_cancel(actor=member, announcement=announcement)
        fresh = access_announcement(announcement_id, member=member)
        return Response(OrganiserAnnouncementSerializer(fresh).data)

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from core.members.models import Member
from kernel.api import PageNumberPagination
from kernel.errors import PermissionDenied
from tenants.selectors import network_current

from .models import Listing
from .selectors import (
    listing_invitations,
    listing_matched_members,
    listing_search,
    partner_listing_search,
)
from .services import (
    EDITABLE,
    access_listing,
    listing_create,
    listing_hide,
    listing_invite,
    listing_status_set,
    listing_update,
)


class ListingSerializer(serializers.ModelSerializer[Listing]):
    owner_name = serializers.CharField(source="owner.full_name", read_only=True)

    class Meta:
        model = Listing
        fields = ["id", *EDITABLE, "status", "owner_name", "created_at"]
        read_only_fields = fields


class ListingInputSerializer(serializers.Serializer[Any]):
    """Shapes only; the rules (choices, lengths, steps) live in the service."""

    kind = serializers.CharField(required=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    category = serializers.CharField(required=False)
    format = serializers.CharField(required=False)
    location = serializers.CharField(required=False, allow_blank=True)
    duration_minutes = serializers.IntegerField(required=False)
    available_from = serializers.DateField(required=False, allow_null=True)
    available_until = serializers.DateField(required=False, allow_null=True)
    visibility = serializers.CharField(required=False)


def _input(request: Request) -> dict[str, Any]:
    serializer = ListingInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class ListingListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter(name, str)
            for name in ("q", "kind", "category", "format", "profession")
        ],
        responses=ListingSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        listings = listing_search(
            query=params.get("q", ""),
            kind=params.get("kind", ""),
            category=params.get("category", ""),
            format=params.get("format", ""),
            profession=params.get("profession", ""),
            viewer=acting_member(request),
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(listings, request, self)
        return paginator.get_paginated_response(ListingSerializer(page, many=True).data)

    @extend_schema(request=ListingInputSerializer, responses={201: ListingSerializer})
    def post(self, request: Request) -> Response:
        listing = listing_create(actor=acting_member(request), **_input(request))
        return Response(ListingSerializer(listing).data, status=201)


class ListingDetailApi(APIView):
    @extend_schema(responses=ListingSerializer)
    def get(self, request: Request, listing_id: int) -> Response:
        return Response(
            ListingSerializer(access_listing(listing_id, member=acting_member(request))).data
        )

    @extend_schema(request=ListingInputSerializer, responses=ListingSerializer)
    def patch(self, request: Request, listing_id: int) -> Response:
        member = acting_member(request)
        listing = access_listing(listing_id, member=member)
        listing = listing_update(actor=member, listing=listing, **_input(request))
        return Response(ListingSerializer(listing).data)


class ListingStatusApi(APIView):
    class StatusSerializer(serializers.Serializer[Any]):
        status = serializers.CharField()

    @extend_schema(request=StatusSerializer, responses=ListingSerializer)
    def post(self, request: Request, listing_id: int) -> Response:
        member = acting_member(request)
        listing = access_listing(listing_id, member=member)
        data = self.StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_status_set(
            actor=member, listing=listing, status=data.validated_data["status"]
        )
        return Response(ListingSerializer(listing).data)


class ListingHideApi(APIView):
    class HideSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField()

    @extend_schema(request=HideSerializer, responses=ListingSerializer)
    def post(self, request: Request, listing_id: int) -> Response:
        member = acting_member(request)
        listing = access_listing(listing_id, member=member)
        data = self.HideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = listing_hide(actor=member, listing=listing, reason=data.validated_data["reason"])
        return Response(ListingSerializer(listing).data)


class PartnerListingSerializer(serializers.Serializer[Any]):
    network = serializers.CharField(source="network.slug")
    network_name = serializers.CharField(source="network.name")
    id = serializers.IntegerField(source="listing.pk")
    kind = serializers.CharField(source="listing.kind")
    title = serializers.CharField(source="listing.title")
    description = serializers.CharField(source="listing.description")
    category = serializers.CharField(source="listing.category")
    format = serializers.CharField(source="listing.format")
    owner_name = serializers.CharField()


class PartnerListingListApi(APIView):
    @extend_schema(
        parameters=[OpenApiParameter(name, str) for name in ("q", "kind", "category", "format")],
        responses=PartnerListingSerializer(many=True),
        description="Listings that partner networks share with this one. Respond through "
        "/exchanges/partner/<network>/listings/<id>/respond/.",
    )
    def get(self, request: Request) -> Response:
        acting_member(request)
        params = request.query_params
        found = partner_listing_search(
            network=network_current(),
            query=params.get("q", ""),
            kind=params.get("kind", ""),
            category=params.get("category", ""),
            format=params.get("format", ""),
        )
        return Response(PartnerListingSerializer(found, many=True).data)


def _own_request(request: Request, listing_id: int) -> tuple[Member, Listing]:
    """The acting member and their own listing; someone else's they may see is refused,
    one they may not see is not found."""
    member = acting_member(request)
    listing = access_listing(listing_id, member=member)
    if listing.owner_id != member.pk:
        raise PermissionDenied("Only the person who posted a request sees whom it matches.")
    return member, listing


class ListingMatchListApi(APIView):
    class MatchSerializer(serializers.Serializer[Any]):
        member_id = serializers.IntegerField(source="member.pk")
        name = serializers.CharField(source="member.full_name")
        profession = serializers.CharField(source="member.profession")
        organisation = serializers.CharField(source="member.organisation")
        score = serializers.FloatField()
        shared_skills = serializers.ListField(
            child=serializers.CharField(),
            help_text="The member's skills the request mentions; empty when their profile "
            "shows others only their name, profession and organisation.",
        )
        invited = serializers.BooleanField()

    @extend_schema(
        responses=MatchSerializer(many=True),
        description="The poster only: the members best matched to their request (at most "
        "10), best first. Invite one through the invitations operation.",
    )
    def get(self, request: Request, listing_id: int) -> Response:
        member, listing = _own_request(request, listing_id)
        matches = listing_matched_members(listing=listing, viewer=member)
        invited = set(listing_invitations(listing=listing).values_list("member_id", flat=True))
        rows = [
            {
                "member": m.member,
                "score": m.score,
                "shared_skills": m.shared_skills,
                "invited": m.member.pk in invited,
            }
            for m in matches
        ]
        return Response(self.MatchSerializer(rows, many=True).data)


class ResponseInvitationSerializer(serializers.Serializer[Any]):
    member_id = serializers.IntegerField()
    name = serializers.CharField(source="member.full_name")
    created_at = serializers.DateTimeField()


class ListingInvitationListApi(APIView):
    class InviteSerializer(serializers.Serializer[Any]):
        member = serializers.IntegerField(
            min_value=1, help_text="The id of a member the request matches (see matches)."
        )

    @extend_schema(responses=ResponseInvitationSerializer(many=True))
    def get(self, request: Request, listing_id: int) -> Response:
        _, listing = _own_request(request, listing_id)
        return Response(
            ResponseInvitationSerializer(listing_invitations(listing=listing), many=True).data
        )

    @extend_schema(
        request=InviteSerializer,
        responses={201: ResponseInvitationSerializer, 200: ResponseInvitationSerializer},
        description="Invite a matched member to respond (at most 5 per request). Inviting "
        "someone invited already answers 200 with that invitation.",
    )
    def post(self, request: Request, listing_id: int) -> Response:
        member, listing = _own_request(request, listing_id)
        data = self.InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitee = data.validated_data["member"]
        existed = listing_invitations(listing=listing).filter(member_id=invitee).exists()
        invitation = listing_invite(actor=member, listing=listing, member_id=invitee)
        return Response(
            ResponseInvitationSerializer(invitation).data, status=200 if existed else 201
        )

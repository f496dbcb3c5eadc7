from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import PageNumberPagination

from .models import Campaign
from .selectors import (
    TAGGABLE_KINDS,
    access_campaign,
    campaign_item_of,
    campaign_items,
    campaign_list,
    campaign_thing,
)
from .services import (
    campaign_create,
    campaign_item_add,
    campaign_item_remove,
    campaign_join,
    campaign_leave,
    campaign_update,
)


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    """A campaign with the hours counted toward it; minutes throughout (60 = one hour)."""

    exchange_minutes = serializers.IntegerField(read_only=True)
    session_minutes = serializers.IntegerField(read_only=True)
    project_minutes = serializers.IntegerField(read_only=True)
    counted_minutes = serializers.IntegerField(read_only=True)
    joined = serializers.BooleanField(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "title",
            "description",
            "starts_on",
            "ends_on",
            "target_minutes",
            "counted_minutes",
            "exchange_minutes",
            "session_minutes",
            "project_minutes",
            "joined",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields


class ItemSerializer(serializers.Serializer[Any]):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()


class CampaignDetailSerializer(CampaignSerializer):
    items = serializers.SerializerMethodField()

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "items"]
        read_only_fields = fields

    @extend_schema_field(ItemSerializer(many=True))
    def get_items(self, campaign: Campaign) -> list[dict[str, object]]:
        return [
            {"kind": item.kind, "id": thing.pk, "title": thing.title}
            for item in campaign_items(campaign=campaign)
            for thing in [item.listing or item.session or item.project]
            if thing is not None
        ]


class CampaignInputSerializer(serializers.Serializer[Any]):
    """Shapes only; the rules (lengths, dates, whole hours) live in the service."""

    title = serializers.CharField(allow_blank=True, max_length=20_000)
    description = serializers.CharField(allow_blank=True, max_length=20_000, required=False)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    target_minutes = serializers.IntegerField()


def _detail(campaign_id: int, request: Request, status: int = 200) -> Response:
    campaign = access_campaign(campaign_id, member=acting_member(request))
    return Response(CampaignDetailSerializer(campaign).data, status=status)


class CampaignListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=CampaignSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The network's campaigns, running and upcoming first, with their hours."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            campaign_list(member=acting_member(request)), request, self
        )
        return paginator.get_paginated_response(CampaignSerializer(page, many=True).data)

    @extend_schema(request=CampaignInputSerializer, responses={201: CampaignDetailSerializer})
    def post(self, request: Request) -> Response:
        """Organisers: start a campaign."""
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = campaign_create(actor=acting_member(request), **data.validated_data)
        return _detail(campaign.pk, request, status=201)


class CampaignDetailApi(APIView):
    @extend_schema(responses=CampaignDetailSerializer)
    def get(self, request: Request, campaign_id: int) -> Response:
        return _detail(campaign_id, request)

    @extend_schema(request=CampaignInputSerializer, responses=CampaignDetailSerializer)
    def put(self, request: Request, campaign_id: int) -> Response:
        """Organisers: change the campaign's title, description, dates or target."""
        member = acting_member(request)
        campaign = access_campaign(campaign_id, member=member)
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign_update(actor=member, campaign=campaign, **data.validated_data)
        return _detail(campaign_id, request)


class CampaignJoinApi(APIView):
    @extend_schema(request=None, responses=CampaignDetailSerializer)
    def post(self, request: Request, campaign_id: int) -> Response:
        """Join a running or upcoming campaign (joining twice keeps the first)."""
        member = acting_member(request)
        campaign_join(actor=member, campaign=access_campaign(campaign_id, member=member))
        return _detail(campaign_id, request)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, campaign_id: int) -> Response:
        """Leave the campaign (leaving one not joined changes nothing)."""
        member = acting_member(request)
        campaign_leave(actor=member, campaign=access_campaign(campaign_id, member=member))
        return Response(status=204)


class ItemInputSerializer(serializers.Serializer[Any]):
    """What to tag: members their own open listing or session while the campaign runs;
    organisers any open listing, open session or live project until it ends."""

    kind = serializers.ChoiceField(choices=sorted(TAGGABLE_KINDS))
    id = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class CampaignItemsApi(APIView):
    @extend_schema(request=ItemInputSerializer, responses=CampaignDetailSerializer)
    def post(self, request: Request, campaign_id: int) -> Response:
        """Tag a listing, group session or project to the campaign; tagging what is
        already tagged changes nothing. Answers the campaign with its items."""
        member = acting_member(request)
        campaign = access_campaign(campaign_id, member=member)
        data = ItemInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thing = campaign_thing(kind=data.validated_data["kind"], thing_id=data.validated_data["id"])
        campaign_item_add(actor=member, campaign=campaign, **thing)
        return _detail(campaign_id, request)


class CampaignItemApi(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        parameters=[
            OpenApiParameter(
                "kind",
                str,
                OpenApiParameter.PATH,
                enum=sorted(TAGGABLE_KINDS),
                description="What the item tags.",
            )
        ],
    )
    def delete(self, request: Request, campaign_id: int, kind: str, thing_id: int) -> Response:
        """Untag an item: organisers any, members what they tagged themselves."""
        member = acting_member(request)
        campaign = access_campaign(campaign_id, member=member)
        item = campaign_item_of(campaign=campaign, kind=kind, thing_id=thing_id)
        campaign_item_remove(actor=member, item=item)
        return Response(status=204)

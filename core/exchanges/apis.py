"""The exchange API: the same moves as the pages (core/exchanges/actions.py), as JSON."""

from __future__ import annotations

from typing import Any

from django_tenants.utils import tenant_context
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.listings.models import Listing
from core.listings.services import access_listing
from core.members.auth import acting_member
from core.members.models import Member
from kernel.api import PageNumberPagination, form_serializer
from kernel.errors import NotFound
from kernel.forms import NoInput
from tenants.models import Network
from tenants.selectors import network_current

from . import actions
from .models import Exchange, Message
from .selectors import exchanges_overview, member_exchanges, waiting_on
from .services import (
    Side,
    access_exchange,
    access_partner_exchange,
    access_partner_network,
    exchange_respond,
    exchange_settings,
    safeguarding_contact_set,
    side_of,
)


class MessageSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    side = serializers.CharField()
    author_name = serializers.CharField()
    body = serializers.SerializerMethodField(help_text="Empty when an organiser hid it.")
    hidden = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_body(self, message: Message) -> str:
        return "" if message.hidden_reason else message.body

    def get_hidden(self, message: Message) -> bool:
        return bool(message.hidden_reason)


class ProposalSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    proposed_by = serializers.CharField()
    starts_at = serializers.DateTimeField()
    place = serializers.CharField()
    video_link = serializers.CharField()
    status = serializers.CharField()


class ExchangeSerializer(serializers.ModelSerializer[Exchange]):
    listing_title = serializers.CharField(source="listing.title")
    giver_name = serializers.CharField()
    receiver_name = serializers.CharField()
    video_link = serializers.CharField(help_text="An https link, or empty.")
    your_side = serializers.SerializerMethodField()
    next_step = serializers.SerializerMethodField()

    class Meta:
        model = Exchange
        fields = [
            "id",
            "listing",
            "listing_title",
            "state",
            "giver_name",
            "receiver_name",
            "minutes",
            "meeting_at",
            "meeting_place",
            "video_link",
            "met_on",
            "dispute_reason",
            "created_at",
            "updated_at",
            "completed_at",
            "your_side",
            "next_step",
        ]
        read_only_fields = fields

    def _side(self, exchange: Exchange) -> Side | None:
        member = self.context.get("member")
        network = self.context.get("network")
        return side_of(exchange, member, network) if member is not None else None

    def get_your_side(self, exchange: Exchange) -> str | None:
        side = self._side(exchange)
        return str(side) if side else None

    def get_next_step(self, exchange: Exchange) -> str:
        side = self._side(exchange)
        return waiting_on(exchange, side) if side else ""


class ExchangeDetailSerializer(ExchangeSerializer):
    messages = MessageSerializer(many=True)
    proposals = ProposalSerializer(many=True)

    class Meta(ExchangeSerializer.Meta):
        fields = [*ExchangeSerializer.Meta.fields, "messages", "proposals"]
        read_only_fields = fields


class RespondSerializer(serializers.Serializer[Any]):
    listing = serializers.IntegerField()
    message = serializers.CharField(max_length=4000)


class ExchangeListApi(APIView):
    pagination_class = PageNumberPagination

    @extend_schema(responses=ExchangeSerializer(many=True))
    def get(self, request: Request) -> Response:
        member = acting_member(request)
        exchanges = member_exchanges(member=member).prefetch_related("proposals")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(exchanges, request, self)
        data = ExchangeSerializer(page, many=True, context={"member": member}).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=RespondSerializer, responses={201: ExchangeSerializer})
    def post(self, request: Request) -> Response:
        """Respond to a listing, opening an exchange with its owner."""
        member = acting_member(request)
        data = RespondSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        listing = access_listing(data.validated_data["listing"], member=member)
        exchange = exchange_respond(
            actor=member, listing=listing, message=data.validated_data["message"]
        )
        return Response(ExchangeSerializer(exchange, context={"member": member}).data, status=201)


def _detail(exchange_id: int, member: Member, network: Network | None = None) -> dict[str, Any]:
    """The exchange with its thread, read in the current schema (the host's)."""
    exchange = (
        Exchange.objects.select_related("listing", "giver", "receiver")
        .prefetch_related("messages", "proposals")
        .get(pk=exchange_id)
    )
    context = {"member": member, "network": network}
    return dict(ExchangeDetailSerializer(exchange, context=context).data)


class ExchangeDetailApi(APIView):
    @extend_schema(responses=ExchangeDetailSerializer)
    def get(self, request: Request, exchange_id: int) -> Response:
        member = acting_member(request)
        access_exchange(exchange_id, member=member)
        return Response(_detail(exchange_id, member))


class ExchangeActionApi(APIView):
    move: str  # one API view per move: see move_apis()

    def post(self, request: Request, exchange_id: int) -> Response:
        member = acting_member(request)
        return _act(request, access_exchange(exchange_id, member=member), member, self.move, None)


def _act(
    request: Request, exchange: Exchange, member: Member, action: str, network: Network | None
) -> Response:
    data = request.data if isinstance(request.data, dict) else {}
    form, _ = actions.exchange_act(
        action, exchange=exchange, actor=member, data=data, actor_network=network
    )
    if form.errors:
        return Response({"detail": "Please correct the input.", "errors": form.errors}, status=400)
    return Response(_detail(exchange.pk, member, network))


class PartnerRespondApi(APIView):
    @extend_schema(
        request=RespondSerializer,
        responses={201: ExchangeSerializer},
        description="Respond to a listing a partner network shares (see "
        "/api/v1/listings/partners/). The exchange lives in that network.",
    )
    def post(self, request: Request, slug: str) -> Response:
        member = acting_member(request)
        here = network_current()
        host = access_partner_network(slug, network=here)
        data = RespondSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with tenant_context(host):
            listing = Listing.objects.filter(pk=data.validated_data["listing"]).first()
            if listing is None:
                raise NotFound("No such listing.")
            exchange = exchange_respond(
                actor=member,
                listing=listing,
                actor_network=here,
                message=data.validated_data["message"],
            )
            context = {"member": member, "network": here}
            return Response(ExchangeSerializer(exchange, context=context).data, status=201)


class PartnerExchangeDetailApi(APIView):
    @extend_schema(responses=ExchangeDetailSerializer)
    def get(self, request: Request, slug: str, exchange_id: int) -> Response:
        member = acting_member(request)
        here = network_current()
        host, _ = access_partner_exchange(slug, exchange_id, member=member, network=here)
        with tenant_context(host):
            return Response(_detail(exchange_id, member, here))


class PartnerExchangeActionApi(APIView):
    move: str  # one API view per move: see move_apis()

    def post(self, request: Request, slug: str, exchange_id: int) -> Response:
        member = acting_member(request)
        here = network_current()
        host, exchange = access_partner_exchange(slug, exchange_id, member=member, network=here)
        with tenant_context(host):
            return _act(request, exchange, member, self.move, here)


# What each move takes, described from the form that checks it (None: no input).
MOVE_INPUTS = {
    name: None
    if action.form is NoInput
    else form_serializer(action.form, f"Exchange{name.title()}Input")
    for name, action in actions.ACTIONS.items()
}


def move_apis(base: type[APIView], operation: str) -> dict[str, type[APIView]]:
    """One documented API view per move of `actions.ACTIONS`, each with its own input."""
    return {
        name: extend_schema_view(
            post=extend_schema(
                operation_id=f"{operation}_{name}",
                request=MOVE_INPUTS[name],
                responses=ExchangeDetailSerializer,
                description=f"Make the move '{name}' (as on the exchange page).",
            )
        )(type(f"{base.__name__}{name.title()}", (base,), {"move": name}))
        for name in actions.ACTIONS
    }


class ExchangeOverviewApi(APIView):
    @extend_schema(responses=None)
    def get(self, request: Request) -> Response:
        overview = exchanges_overview(actor=acting_member(request))
        return Response(
            {
                "disputes": ExchangeSerializer(overview.disputes, many=True).data,
                "awaiting_confirmation": ExchangeSerializer(
                    overview.awaiting_confirmation, many=True
                ).data,
                "recent": ExchangeSerializer(overview.recent, many=True).data,
            }
        )


class SafeguardingContactSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(source="safeguarding_name", allow_blank=True, max_length=20_000)
    role = serializers.CharField(
        source="safeguarding_role", required=False, allow_blank=True, max_length=20_000
    )
    email = serializers.CharField(
        source="safeguarding_email", required=False, allow_blank=True, max_length=20_000
    )
    phone = serializers.CharField(
        source="safeguarding_phone", required=False, allow_blank=True, max_length=20_000
    )
    note = serializers.CharField(
        source="safeguarding_note", required=False, allow_blank=True, max_length=20_000
    )


class SafeguardingContactApi(APIView):
    """The network's safeguarding contact, shown on every exchange page (empty name: none
    named yet). Every member may read it; organisers set it."""

    @extend_schema(responses=SafeguardingContactSerializer)
    def get(self, request: Request) -> Response:
        acting_member(request)
        return Response(SafeguardingContactSerializer(exchange_settings()).data)

    @extend_schema(request=SafeguardingContactSerializer, responses=SafeguardingContactSerializer)
    def put(self, request: Request) -> Response:
        member = acting_member(request)
        data = SafeguardingContactSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = {
            key.removeprefix("safeguarding_"): value for key, value in data.validated_data.items()
        }
        rules = safeguarding_contact_set(actor=member, **fields)
        return Response(SafeguardingContactSerializer(rules).data)

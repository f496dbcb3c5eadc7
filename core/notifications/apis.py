from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from core.members.models import Member
from kernel.api import PageNumberPagination

from .models import IN_APP_OPTIONAL, Kind
from .selectors import (
    email_preferences,
    in_app_preferences,
    notification_list,
    notification_unread_count,
)
from .services import (
    email_preferences_set,
    notification_mark_all_read,
    notification_mark_read,
    push_subscription_remove,
    push_subscription_save,
)


class NotificationPagination(PageNumberPagination):
    """A page of notifications, with how many of all of them are unread."""

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = [*paginated["required"], "unread_count"]
        paginated["properties"]["unread_count"] = {"type": "integer", "example": 3}
        return paginated


class NotificationListApi(APIView):
    pagination_class = NotificationPagination

    class NotificationSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        title = serializers.CharField()
        body = serializers.CharField()
        url = serializers.CharField()
        created_at = serializers.DateTimeField()
        read_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            notification_list(member=acting_member(request)), request, self
        )
        response = paginator.get_paginated_response(
            self.NotificationSerializer(page, many=True).data
        )
        response.data["unread_count"] = notification_unread_count(member=acting_member(request))
        return response


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request, notification_id: int) -> Response:
        marked = notification_mark_read(
            actor=acting_member(request), notification_id=notification_id
        )
        # Not marked: missing, someone else's, or already read. Only the first two are errors.
        mine = notification_list(member=acting_member(request)).filter(pk=notification_id)
        if not marked and not mine.exists():
            return Response({"detail": "No such notification."}, status=404)
        return Response(status=204)


class NotificationReadAllApi(APIView):
    @extend_schema(
        request=None,
        responses=inline_serializer("ReadAll", {"marked_read": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        return Response({"marked_read": notification_mark_all_read(actor=acting_member(request))})


def _preferences(member: Member) -> dict[str, bool]:
    shown = in_app_preferences(member=member)
    return {**email_preferences(member=member), **{f"{k}_in_app": v for k, v in shown.items()}}


class EmailPreferencesApi(APIView):
    class EmailPreferencesSerializer(serializers.Serializer[Any]):
        """One true/false per kind of notification (email me), and `<kind>_in_app` for the
        kinds a member may turn off in the app too; any other name is refused."""

        def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
            fields: dict[str, serializers.Field[Any, Any, Any, Any]] = {
                kind: serializers.BooleanField(required=False, help_text=force_str(label))
                for kind, label in Kind.choices
            }
            for kind, label in IN_APP_OPTIONAL.items():
                fields[f"{kind}_in_app"] = serializers.BooleanField(
                    required=False, help_text=force_str(_("Tell me in the app: %s") % label)
                )
            return fields

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    dict.fromkeys(unknown, "Not a kind of notification.")
                )
            return attrs

    @extend_schema(responses=EmailPreferencesSerializer)
    def get(self, request: Request) -> Response:
        return Response(_preferences(acting_member(request)))

    @extend_schema(request=EmailPreferencesSerializer, responses=EmailPreferencesSerializer)
    def put(self, request: Request) -> Response:
        serializer = self.EmailPreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        chosen = dict(serializer.validated_data)
        in_app: dict[str, bool] = {
            kind: chosen.pop(f"{kind}_in_app")
            for kind in IN_APP_OPTIONAL
            if f"{kind}_in_app" in chosen
        }
        email_preferences_set(actor=acting_member(request), choices=chosen, in_app=in_app)
        return Response(_preferences(acting_member(request)))


class PushSubscriptionApi(APIView):
    """Turn Web Push on (POST the browser's `PushSubscription.toJSON()`) or off (DELETE
    with its endpoint) for the signed-in member in one browser."""

    class KeysSerializer(serializers.Serializer[Any]):
        p256dh = serializers.CharField(max_length=100)
        auth = serializers.CharField(max_length=40)

    class SubscriptionSerializer(serializers.Serializer[Any]):
        endpoint = serializers.URLField(max_length=1000)
        keys = serializers.DictField(child=serializers.CharField(), required=False)

    class EndpointSerializer(serializers.Serializer[Any]):
        endpoint = serializers.URLField(max_length=1000)

    @extend_schema(request=SubscriptionSerializer, responses={201: None})
    def post(self, request: Request) -> Response:
        serializer = self.SubscriptionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        keys = self.KeysSerializer(data=serializer.validated_data.get("keys", {}))
        if not keys.is_valid():
            return Response({"keys": keys.errors}, status=400)
        push_subscription_save(
            actor=acting_member(request),
            endpoint=serializer.validated_data["endpoint"],
            **keys.validated_data,
        )
        return Response(status=201)

    @extend_schema(
        request=EndpointSerializer,
        responses=inline_serializer("PushRemoved", {"removed": serializers.IntegerField()}),
    )
    def delete(self, request: Request) -> Response:
        serializer = self.EndpointSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        removed = push_subscription_remove(
            actor=acting_member(request), endpoint=serializer.validated_data["endpoint"]
        )
        return Response({"removed": removed})

"""Organisers read the network's single sign-on settings (never the secret: its last
characters at most). Changing them stays on the settings page, where the secret is typed."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .selectors import sso_settings
from .services import sso_settings_shown


class CanManageSignIn(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user.is_authenticated
                    and request.user.has_perm("members.approve_member"))  # fmt: skip


class SsoSettingsSerializer(serializers.Serializer[dict[str, object]]):
    configured = serializers.BooleanField()
    kind = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    issuer = serializers.CharField(required=False)
    client_id = serializers.CharField(required=False)
    secret_hint = serializers.CharField(
        required=False, help_text="The secret's last four characters (blank for a short one)."
    )
    password_sign_in = serializers.BooleanField(required=False)


class SsoSettingsApi(APIView):
    permission_classes = [CanManageSignIn]

    @extend_schema(responses=SsoSettingsSerializer)
    def get(self, request: Request) -> Response:
        """Organisers: the network's identity provider, without its client secret."""
        return Response(SsoSettingsSerializer(sso_settings_shown(sso_settings())).data)

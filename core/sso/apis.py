"""Organisers read, set and remove the network's single sign-on settings, and test the
connection, as on the settings page. The client secret is written, never read back (its
last characters at most)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.members.auth import acting_member
from kernel.api import form_serializer
from kernel.errors import NotFound

from .selectors import sso_settings
from .services import (
    SsoRefused,
    sso_connection_check,
    sso_settings_remove,
    sso_settings_set,
    sso_settings_shown,
)
from .views import SsoSettingsForm


class CanManageSignIn(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return bool(
            request.user.is_authenticated and request.user.has_perm("members.approve_member")
        )


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


SsoSettingsInput = form_serializer(SsoSettingsForm, "SsoSettingsInput")


class SsoSettingsApi(APIView):
    permission_classes = [CanManageSignIn]

    @extend_schema(responses=SsoSettingsSerializer)
    def get(self, request: Request) -> Response:
        """Organisers: the network's identity provider, without its client secret."""
        return Response(SsoSettingsSerializer(sso_settings_shown(sso_settings())).data)

    @extend_schema(request=SsoSettingsInput, responses=SsoSettingsSerializer)
    def put(self, request: Request) -> Response:
        """Organisers: connect (or change) the identity provider. The client secret is
        never returned; left blank, the saved one is kept. Audit-logged without it."""
        form = SsoSettingsForm(request.data if isinstance(request.data, dict) else {})
        if not form.is_valid():
            return Response(
                {"detail": "Please correct the input.", "errors": form.errors}, status=400
            )
        row = sso_settings_set(actor=acting_member(request), **form.cleaned_data)
        return Response(SsoSettingsSerializer(sso_settings_shown(row)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Organisers: disconnect the provider; members sign in with their password."""
        sso_settings_remove(actor=acting_member(request))
        return Response(status=204)


class ConnectionTestSerializer(serializers.Serializer[dict[str, object]]):
    works = serializers.BooleanField()
    detail = serializers.CharField(help_text="What worked, or what failed, in words.")
    issuer = serializers.CharField()
    keys = serializers.IntegerField(required=False, help_text="Signing keys published.")
    authorization_endpoint = serializers.CharField(required=False)


class SsoConnectionTestApi(APIView):
    permission_classes = [CanManageSignIn]

    @extend_schema(request=None, responses=ConnectionTestSerializer)
    def post(self, request: Request) -> Response:
        """Organisers: fetch the provider's discovery document and keys, as sign-in will
        (the settings page's "Test the connection"). A failed test answers 200 with
        `works` false and what failed."""
        current = sso_settings()
        if current is None:
            raise NotFound(_("No identity provider is connected."))
        try:
            checked = sso_connection_check(issuer=current.issuer)
        except SsoRefused as refused:
            failed = _("The connection failed: %(reason)s") % {"reason": refused.message}
            return Response({"works": False, "detail": failed, "issuer": current.issuer})
        works = _(
            "The connection works: %(issuer)s publishes %(keys)s signing key(s); "
            "members will sign in at %(endpoint)s."
        )
        return Response(
            {
                "works": True,
                "issuer": checked.issuer,
                "keys": checked.keys,
                "authorization_endpoint": checked.authorization_endpoint,
                "detail": works
                % {
                    "issuer": checked.issuer,
                    "keys": checked.keys,
                    "endpoint": checked.authorization_endpoint,
                },
            }
        )

"""Signing API calls in with a personal token: `Authorization: Bearer <token>`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from .models import ApiToken, Member
from .services import api_token_digest, api_token_used

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema


class ApiTokenAuthentication(BaseAuthentication):
    """A token belongs to one network: it is looked up in the schema of the host the call
    is made to, so network A's tokens mean nothing on network B. Listed first in
    DEFAULT_AUTHENTICATION_CLASSES, so a call without credentials answers 401 with
    `WWW-Authenticate: Bearer`."""

    def authenticate(self, request: Request) -> tuple[Member, ApiToken] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"bearer":
            return None  # another scheme, or a browser session
        if len(header) != 2:
            raise AuthenticationFailed("Send the token as 'Authorization: Bearer <token>'.")
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("That token is not valid.") from None
        token = (
            ApiToken.objects.select_related("member")
            .filter(digest=api_token_digest(secret))
            .first()
        )
        if token is None or not token.member.is_active:
            raise AuthenticationFailed("That token is not valid, or has been revoked.")
        api_token_used(token)
        return token.member, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the API schema (and so /api/docs/) describes the token."""

    target_class = ApiTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal token made on /members/tokens/.",
        }

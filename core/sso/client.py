"""The OpenID Connect client of a network's provider: Authlib's Django client, made for
each request from the network's own settings (never from global settings, so one
network's provider is unknown to every other).

Authlib keeps the state, the nonce and the PKCE code verifier in the session (which lives
in the network's schema), sends the S256 code challenge, exchanges the code with the
verifier and checks the id token: signature against the provider's published keys,
issuer, audience (our client id), nonce and expiry."""

from __future__ import annotations

from authlib.integrations.django_client import DjangoOAuth2App
from authlib.integrations.django_client.integration import DjangoIntegration
from django.conf import settings
from django.utils.translation import gettext as _

from .crypto import secret_decrypt
from .models import SsoSettings
from .services import SsoRefused, discovery_url

CLIENT_NAME = "sso"


def sso_client(current: SsoSettings) -> DjangoOAuth2App:
    """The client, its provider's discovery document loaded. Refuses (`SsoRefused`) a
    document naming another issuer than the one configured (the id token's issuer is
    checked against the document's). Network errors propagate (requests' exceptions)."""
    secret = secret_decrypt(current.client_secret_encrypted)
    if secret is None:
        raise SsoRefused(
            _("Single sign-on needs its client secret entering again; ask an organiser.")
        )
    client = DjangoOAuth2App(
        DjangoIntegration(CLIENT_NAME),
        name=CLIENT_NAME,
        client_id=current.client_id,
        client_secret=secret,
        server_metadata_url=discovery_url(current.issuer),
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",
            "default_timeout": settings.HEXITIME_SSO_TIMEOUT,
        },
    )
    metadata = client.load_server_metadata()
    if metadata.get("issuer") != current.issuer:
        raise SsoRefused(
            _(
                "%(provider)s's discovery document names another issuer; ask an organiser to "
                "test the connection."
            )
            % {"provider": current.name}
        )
    return client

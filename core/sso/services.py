"""Single sign-on for a network: an organiser connects the network's OpenID Connect
provider; a person signing in through it joins (or signs in) under the network's policy.

The protocol — authorisation code with PKCE, state and nonce, the id token's signature,
issuer, audience and expiry — is Authlib's (core.sso.client); these services hold what
is ours: the settings (the client secret encrypted, core.sso.crypto), and what a verified
id token means here. A person is matched by the provider's stable subject, then (only when
the provider confirms the address) by email. A new person joins through core.joining's
services, so the welcome gift is granted by the same code, exactly once, when the address
is confirmed — by the provider, or by the emailed link when the provider does not confirm.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.joining.services import (
    email_domain_allowed,
    join_settings_get,
    member_email_confirmed,
    member_unverified_add,
)
from core.members.models import JoinPolicy, Member, MemberState
from core.members.places import plan_member_place_take
from kernel.db import durable_service
from kernel.errors import ApplicationError, PermissionDenied
from kernel.text import markup_strip, plain_text

from .crypto import secret_decrypt, secret_encrypt
from .models import ProviderKind, SsoIdentity, SsoSettings
from .selectors import sso_settings_forget

DISCOVERY_PATH = "/.well-known/openid-configuration"
GOOGLE_ISSUER = "https://accounts.google.com"
ENTRA_ISSUER = "https://login.microsoftonline.com/{directory}/v2.0"
DEFAULT_NAMES = {ProviderKind.ENTRA: "Microsoft", ProviderKind.GOOGLE: "Google"}


class SsoRefused(ApplicationError):
    pass


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def sso_settings_shown(current: SsoSettings | None) -> dict[str, Any]:
    """The settings as an organiser may see them (and the audit log keeps them): never the
    secret, only its last characters."""
    if current is None:
        return {"configured": False}
    return {
        "configured": True,
        "kind": current.kind,
        "name": current.name,
        "issuer": current.issuer,
        "client_id": current.client_id,
        "secret_hint": current.secret_hint,
        "password_sign_in": current.password_sign_in,
    }


def _issuer_clean(kind: str, directory: str, issuer: str) -> str:
    if kind == ProviderKind.GOOGLE:
        return GOOGLE_ISSUER
    if kind == ProviderKind.ENTRA:
        # The ID, not a domain: Entra's discovery by domain names the ID as its issuer.
        directory = directory.strip().lower()
        try:
            directory = str(uuid.UUID(directory))
        except ValueError:
            raise SsoRefused(
                _(
                    "Enter your Microsoft Entra directory (tenant) ID, e.g. "
                    "4f1c2b3a-5d6e-4f70-8a9b-0c1d2e3f4a5b (Entra admin centre, Overview)."
                ),
                field="directory",
            ) from None
        return ENTRA_ISSUER.format(directory=directory)
    issuer = issuer.strip()
    if issuer.endswith(DISCOVERY_PATH):  # the discovery URL pasted: its issuer is before it
        issuer = issuer[: -len(DISCOVERY_PATH)]
    try:
        URLValidator(schemes=["https"])(issuer)
    except ValidationError:
        raise SsoRefused(
            _("Enter the provider's issuer or discovery URL, starting https://."), field="issuer"
        ) from None
    if len(issuer) > 500 or urlsplit(issuer).query or urlsplit(issuer).fragment:
        raise SsoRefused(
            _("An issuer URL has no query or fragment (nothing after ? or #)."), field="issuer"
        )
    return issuer.rstrip("/")


@durable_service
def sso_settings_set(
    *,
    actor: Member,
    kind: str,
    name: str = "",
    directory: str = "",
    issuer: str = "",
    client_id: str,
    client_secret: str = "",
    password_sign_in: bool,
) -> SsoSettings:
    """An organiser connects (or changes) the network's identity provider. A blank secret
    keeps the one saved. Audited, without the secret."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can change how people sign in."))
    if kind not in ProviderKind.values:
        raise SsoRefused(
            _("Choose Microsoft Entra ID, Google Workspace or another provider."), field="kind"
        )
    issuer = _issuer_clean(kind, directory, issuer)
    name = plain_text(name, name="name", limit=80, missing=None, refusal=SsoRefused)
    name = name or DEFAULT_NAMES.get(ProviderKind(kind), "")
    if not name:
        raise SsoRefused(
            _("Name the provider, as the sign-in button will: “Sign in with …”."), field="name"
        )
    client_id = client_id.strip()
    if not client_id or len(client_id) > 255:
        raise SsoRefused(
            _("Enter the client (application) ID the provider gave you."), field="client_id"
        )
    client_secret = client_secret.strip()
    if len(client_secret) > 1000:
        raise SsoRefused(_("That client secret is too long."), field="client_secret")
    current = SsoSettings.objects.select_for_update().filter(pk=1).first()
    before = sso_settings_shown(current)
    keeps_secret = (
        not client_secret
        and current is not None
        and secret_decrypt(current.client_secret_encrypted) is not None
    )
    if not client_secret and not keeps_secret:
        raise SsoRefused(_("Enter the client secret the provider gave you."), field="client_secret")
    row = current or SsoSettings(pk=1)
    row.kind, row.name, row.issuer, row.client_id = kind, name, issuer, client_id
    row.password_sign_in = password_sign_in
    if client_secret:
        row.client_secret_encrypted = secret_encrypt(client_secret)
        row.secret_hint = client_secret[-4:] if len(client_secret) >= 12 else ""
    row.save()
    sso_settings_forget()
    after = {**sso_settings_shown(row), "secret_changed": bool(client_secret)}
    audit_record(actor=actor, verb="sso.change", target=row, before=before, after=after)
    return row


@durable_service
def sso_settings_remove(*, actor: Member) -> None:
    """An organiser disconnects the provider: password sign-in is the only way again.
    Members keep their links to the provider (if it is connected again, they still work)."""
    if not actor.has_perm("members.approve_member"):
        raise PermissionDenied(_("Only organisers can change how people sign in."))
    current = SsoSettings.objects.select_for_update().filter(pk=1).first()
    if current is None:
        return
    audit_record(actor=actor, verb="sso.remove", target=current, before=sso_settings_shown(current))
    current.delete()
    sso_settings_forget()


@dataclass(frozen=True)
class ConnectionChecked:
    issuer: str
    authorization_endpoint: str
    keys: int


def sso_connection_check(*, issuer: str) -> ConnectionChecked:
    """Fetch the provider's discovery document and keys, as sign-in will. Refuses
    (`SsoRefused`) with what failed, in words an organiser can act on."""
    url = discovery_url(issuer)
    timeout = settings.HEXITIME_SSO_TIMEOUT
    try:
        answer = requests.get(url, timeout=timeout)
    except requests.RequestException as error:
        raise SsoRefused(
            _("Could not reach %(url)s (%(error)s).") % {"url": url, "error": type(error).__name__}
        ) from None
    if answer.status_code != 200:
        raise SsoRefused(
            _("%(url)s answered HTTP %(status)s, not the discovery document.")
            % {"url": url, "status": answer.status_code}
        )
    try:
        document = answer.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise SsoRefused(
            _("%(url)s did not answer with a discovery document (JSON).") % {"url": url}
        )
    if document.get("issuer") != issuer:
        raise SsoRefused(
            _(
                "The provider says its issuer is “%(theirs)s”, not “%(ours)s”: correct the "
                "issuer here."
            )
            % {"theirs": document.get("issuer"), "ours": issuer}
        )
    missing = [
        key
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(document.get(key), str)
    ]
    if missing:
        raise SsoRefused(
            _("The discovery document has no %(keys)s.") % {"keys": ", ".join(missing)}
        )
    try:
        keys = requests.get(document["jwks_uri"], timeout=timeout).json().get("keys")
    except (requests.RequestException, ValueError, AttributeError):
        keys = None
    if not isinstance(keys, list) or not keys:
        raise SsoRefused(
            _("The provider's signing keys (%(url)s) could not be read.")
            % {"url": document["jwks_uri"]}
        )
    return ConnectionChecked(
        issuer=issuer, keys=len(keys), authorization_endpoint=document["authorization_endpoint"]
    )


def _email_confirmed(kind: str, claims: dict[str, Any]) -> bool:
    # Google sends email_verified; Entra ID sends xms_edov ("email domain owner verified")
    # when the organisation adds that optional claim.
    return claims.get("email_verified") is True or (
        kind == ProviderKind.ENTRA and claims.get("xms_edov") is True
    )


@durable_service
def sso_sign_in(*, claims: dict[str, Any]) -> Member:
    """The member a verified id token from this network's provider signs in: the one linked
    to its subject; else the member with its address, when the provider confirms the
    address (then linked); else a new member, who joins under the network's policy. Refuses
    (`SsoRefused`, nothing written) a stopped account, an address the policy excludes, a
    token without an address; `PlanLimitReached` when the network is full."""
    current = SsoSettings.objects.filter(pk=1).first()
    if current is None:
        raise SsoRefused(_("This network does not sign in through an identity provider."))
    subject = str(claims.get("sub") or "")
    email = str(claims.get("email") or "").strip().lower()
    confirmed = _email_confirmed(current.kind, claims)
    identity = (
        SsoIdentity.objects.select_related("member")
        .filter(issuer=current.issuer, subject=subject)
        .first()
    )
    if identity is not None:
        member = Member.objects.select_for_update().get(pk=identity.member_id)
    else:
        try:
            validate_email(email)
        except ValidationError:
            raise SsoRefused(
                _(
                    "%(provider)s did not tell us your email address, so we cannot sign you in. "
                    "Ask your organiser."
                )
                % {"provider": current.name}
            ) from None
        member = _member_for_address(current, email, claims, confirmed=confirmed)
        try:
            with transaction.atomic():
                SsoIdentity.objects.create(member=member, issuer=current.issuer, subject=subject)
        except IntegrityError:  # the same person's first sign-in, twice at once
            raise SsoRefused(_("Please try signing in again.")) from None
        audit_record(
            actor=member,
            verb="sso.link",
            target=member,
            after={"issuer": current.issuer, "subject": subject},
        )
    if member.state in (MemberState.DECLINED, MemberState.DEACTIVATED, MemberState.CLOSED) or (
        not member.is_active
    ):
        raise SsoRefused(
            _(
                "Your account in this network is stopped, so you cannot sign in. Ask one of its "
                "organisers if you think this is a mistake."
            )
        )
    if member.state == MemberState.UNVERIFIED and confirmed and member.email == email:
        member_email_confirmed(member)
    return member


def _member_for_address(
    current: SsoSettings, email: str, claims: dict[str, Any], *, confirmed: bool
) -> Member:
    existing = Member.objects.select_for_update().filter(email__iexact=email).first()
    if existing is not None:
        if not confirmed:
            # Linking on an address the provider does not vouch for would hand the account
            # to whoever can set that address at the provider.
            raise SsoRefused(
                _(
                    "An account with this address exists here, and %(provider)s did not confirm "
                    "the address is yours. Sign in with your password, or ask your organiser."
                )
                % {"provider": current.name}
            )
        return existing
    policy = join_settings_get()
    if policy.policy == JoinPolicy.EMAIL_DOMAIN and not email_domain_allowed(
        email, policy.allowed_domains
    ):
        raise SsoRefused(
            _("This network is open to email addresses at %(domains)s.")
            % {"domains": ", ".join(policy.allowed_domains)}
        )
    full_name = markup_strip(claims.get("name") or "")[:150]
    plan_member_place_take()
    candidate = Member(email=email, full_name=full_name or email.split("@")[0][:150])
    # No password: this person signs in through the provider (or resets one to have one).
    candidate.set_unusable_password()
    if not confirmed:
        return member_unverified_add(candidate)
    # Confirmed by the provider: no link to email; sso_sign_in confirms the address.
    candidate.state = MemberState.UNVERIFIED
    candidate.save()
    return candidate

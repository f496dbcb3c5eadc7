"""Who is acting: the signed-in member, typed as one; who is asking (the client address
behind trusted proxies); and signing in, locked out after repeated failures (django-axes,
configured in settings/security.py)."""

from __future__ import annotations

import ipaddress
import unicodedata
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django_tenants.utils import get_public_schema_name
from rest_framework.request import Request

from kernel.db import connection

if TYPE_CHECKING:
    from core.members.models import Member


def acting_member(request: HttpRequest | Request) -> Member:
    """The signed-in member behind `login_required` or `IsAuthenticated`.

    Refuses (403) anything else, so a view wired without its guard fails closed.
    """
    from core.members.models import Member

    user = request.user
    if not isinstance(user, Member) or not user.is_authenticated:
        raise PermissionDenied
    return user


def client_ip(request: HttpRequest) -> str:
    """The client's address: the connecting one, or behind `HEXITIME_TRUSTED_PROXIES`
    reverse proxies the one the outermost of them saw. Each trusted proxy appends to
    X-Forwarded-For, so that address is the proxies' count from the right; entries further
    left are whatever the client sent and are never trusted."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.HEXITIME_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    hops = [hop.strip() for hop in header.split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:  # a proxy that writes something else is not one we trust
        return remote


def sign_in_identity(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The address a sign-in is for, as the lockout counts it: Unicode-normalised (NFKC,
    as Django's `UsernameField` does before authenticating) and case-folded, so the
    full-width or upper-case spellings of an address share its count."""
    if credentials and credentials.get("username") is not None:
        value = credentials["username"]
    else:
        value = request.POST.get("username", "")
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def lockout_parameters(
    request: HttpRequest | None, credentials: dict[str, Any] | None
) -> list[str | list[str]]:
    """What a lockout is keyed on. In a network: the address together with the client, so
    someone guessing from elsewhere never locks a member out of their own sign-in. On the
    public site (platform staff) also the client alone, so one client cannot try many staff
    addresses."""
    if connection.schema_name == get_public_schema_name():
        return [["username", "ip_address"], "ip_address"]
    return [["username", "ip_address"]]


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """A locked-out sign-in: the sign-in page the view rendered (its form says why, see
    `ThrottledAuthenticationForm`), answered 429."""
    response = original_response if original_response is not None else HttpResponse()
    response.status_code = 429
    return response


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, saying `throttled` once django-axes has locked the attempt
    out (settings/security.py: five failures, fifteen minutes). Subclasses word the
    `throttled` message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Accounts are named by email address (theming/sign_in.html renders these fields).
        username = self.fields["username"]
        username.label = "Email address"
        username.widget = forms.EmailInput(
            attrs={
                **username.widget.attrs,  # maxlength, from the model field
                "autocomplete": "email",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        )
        username.widget.attrs.pop("autofocus", None)

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except ValidationError:
            if getattr(self.request, "axes_locked_out", False):
                raise ValidationError(self.error_messages["throttled"], code="throttled") from None
            raise

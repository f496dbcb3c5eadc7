"""Pages of single sign-on: the organisers' settings, the sign-in page with its provider
button, and the two legs of the authorisation code flow (start, callback)."""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from joserfc.errors import BadSignatureError, ClaimError, JoseError

from core.members.auth import acting_member
from core.members.models import Member, MemberState
from core.members.views import MemberLoginForm, ThrottledLoginView
from kernel.errors import ApplicationError
from kernel.forms import refusal_show
from tenants.selectors import network_current

from .client import sso_client
from .models import ProviderKind
from .selectors import password_sign_in_allowed, sso_settings
from .services import (
    ENTRA_ISSUER,
    SsoRefused,
    sso_connection_check,
    sso_settings_remove,
    sso_settings_set,
    sso_sign_in,
)

NEXT_SESSION_KEY = "sso_next"


class SignInForm(MemberLoginForm):
    """The network's sign-in form; refused, before any password is checked, when the
    network signs in only through its provider."""

    def clean(self) -> dict[str, Any]:
        if not password_sign_in_allowed():
            current = sso_settings()
            raise ValidationError(
                _("%(network)s does not use passwords: sign in with %(provider)s.")
                % {
                    "network": network_current().name,
                    "provider": current.name if current else "",
                },
                code="password_off",
            )
        return super().clean()


class SignInView(ThrottledLoginView):
    form_class = SignInForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso"] = sso_settings()
        return context


def _failed(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    return render(request, "sso/failed.html", {"message": message}, status=status)


def _unreachable(request: HttpRequest, provider: str) -> HttpResponse:
    message = _("We could not reach %(provider)s. Please try again in a few minutes.")
    return _failed(request, message % {"provider": provider}, status=502)


def sso_start(request: HttpRequest) -> HttpResponse:
    current = sso_settings()
    if current is None:
        raise Http404("No single sign-on here")
    next_url = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        request.session[NEXT_SESSION_KEY] = next_url
    try:
        client = sso_client(current)
        callback = request.build_absolute_uri(reverse("sso-callback"))
        return client.authorize_redirect(request, callback)
    except SsoRefused as refused:
        return _failed(request, refused.message)
    except (requests.RequestException, ValueError, AuthlibBaseError, RuntimeError):
        return _unreachable(request, current.name)


def _token_refusal(provider: str, error: Exception) -> str:
    if isinstance(error, MismatchingStateError):
        return _(
            "This sign-in was started in another browser tab or has expired. Please start again."
        )
    if isinstance(error, OAuthError):
        return _("%(provider)s did not sign you in (%(reason)s).") % {
            "provider": provider,
            "reason": error.description or error.error,
        }
    if isinstance(error, BadSignatureError):
        return _(
            "The answer from %(provider)s was not signed with its keys, so we did not sign you in."
        ) % {"provider": provider}
    if isinstance(error, ClaimError):
        claim = getattr(error, "claim", "")
        if claim in ("aud", "azp"):  # the audience, or the party it was issued to
            return _(
                "The answer from %(provider)s was meant for another application, so we "
                "did not sign you in."
            ) % {"provider": provider}
        if claim == "nonce":
            return _(
                "The answer from %(provider)s does not belong to this sign-in. Please start again."
            ) % {"provider": provider}
        return _(
            "The answer from %(provider)s did not pass our checks (%(claim)s), so we did "
            "not sign you in."
        ) % {"provider": provider, "claim": claim}
    return _("The answer from %(provider)s could not be read, so we did not sign you in.") % {
        "provider": provider
    }


def sso_callback(request: HttpRequest) -> HttpResponse:
    current = sso_settings()
    if current is None:
        raise Http404("No single sign-on here")
    try:
        client = sso_client(current)
        token = client.authorize_access_token(request)
    except SsoRefused as refused:
        return _failed(request, refused.message)
    except requests.RequestException:
        return _unreachable(request, current.name)
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        return _failed(request, _token_refusal(current.name, error))
    claims = dict(token.get("userinfo") or {})
    if not claims:
        return _failed(request, _token_refusal(current.name, ValueError()))
    try:
        member = sso_sign_in(claims=claims)
    except ApplicationError as refused:
        return _failed(request, refused.message, status=403)
    next_url = request.session.pop(NEXT_SESSION_KEY, "")
    login(request, member, backend="core.members.backends.MemberBackend")
    if member.state == MemberState.UNVERIFIED:
        return redirect("join-check-email")
    if member.state == MemberState.AWAITING_APPROVAL:
        messages.info(
            request,
            _("Thank you: your email is confirmed. An organiser will review your request to join."),
        )
    return redirect(next_url or "home")


class SsoSettingsForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Identity provider"),
        choices=ProviderKind.choices,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=gettext_lazy("Name on the sign-in button"),
        max_length=80,
        required=False,
        help_text=gettext_lazy("“Sign in with …”; left blank: Microsoft or Google."),
    )
    directory = forms.CharField(
        label=gettext_lazy("Microsoft Entra directory (tenant) ID"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("For Microsoft Entra ID only."),
    )
    issuer = forms.CharField(
        label=gettext_lazy("Issuer or discovery URL"),
        max_length=600,
        required=False,
        help_text=gettext_lazy("For another provider only, e.g. https://id.example.ac.uk."),
    )
    client_id = forms.CharField(label=gettext_lazy("Client (application) ID"), max_length=255)
    client_secret = forms.CharField(
        label=gettext_lazy("Client secret"),
        max_length=1000,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    password_sign_in = forms.BooleanField(
        label=gettext_lazy("Members may also sign in with a password"), required=False
    )


def _organiser(request: HttpRequest) -> Member:
    member = acting_member(request)
    if not member.has_perm("members.approve_member"):
        raise DjangoPermissionDenied
    return member


@login_required
def sso_settings_view(request: HttpRequest) -> HttpResponse:
    member = _organiser(request)
    current = sso_settings()
    initial: dict[str, Any] = {"kind": ProviderKind.ENTRA, "password_sign_in": True}
    if current is not None:
        directory = ""
        prefix, suffix = ENTRA_ISSUER.split("{directory}")
        if current.kind == ProviderKind.ENTRA:
            directory = current.issuer.removeprefix(prefix).removesuffix(suffix)
        initial = {
            "kind": current.kind,
            "name": current.name,
            "client_id": current.client_id,
            "issuer": current.issuer if current.kind == ProviderKind.OIDC else "",
            "directory": directory,
            "password_sign_in": current.password_sign_in,
        }
    form = SsoSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            sso_settings_set(actor=member, **form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(
                request, _("Single sign-on settings saved. Test the connection below.")
            )
            return redirect("sso-settings")
    context = {
        "form": form,
        "current": current,
        "callback_url": request.build_absolute_uri(reverse("sso-callback")),
    }
    return render(request, "sso/settings.html", context)


@login_required
@require_POST
def sso_test_view(request: HttpRequest) -> HttpResponse:
    _organiser(request)
    current = sso_settings()
    if current is None:
        return redirect("sso-settings")
    try:
        checked = sso_connection_check(issuer=current.issuer)
    except SsoRefused as refused:
        messages.error(
            request, _("The connection failed: %(reason)s") % {"reason": refused.message}
        )
    else:
        works = _(
            "The connection works: %(issuer)s publishes %(keys)s signing key(s); "
            "members will sign in at %(endpoint)s."
        )
        messages.success(
            request,
            works
            % {
                "issuer": checked.issuer,
                "keys": checked.keys,
                "endpoint": checked.authorization_endpoint,
            },
        )
    return redirect("sso-settings")


@login_required
@require_POST
def sso_remove_view(request: HttpRequest) -> HttpResponse:
    sso_settings_remove(actor=_organiser(request))
    messages.success(
        request, _("Single sign-on is turned off: members sign in with their password.")
    )
    return redirect("sso-settings")

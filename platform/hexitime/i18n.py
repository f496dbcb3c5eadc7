"""Which language a page is in, and the switcher that changes it.

The order, first that applies: the language a signed-in member saved; the language cookie
the switcher set (so a signed-out visitor keeps their choice); the network's default, set
by its organiser on the branding page (theming.Theme.default_language); the platform's
LANGUAGE_CODE. The browser's Accept-Language is not consulted: staff on shared NHS
machines mostly send en-GB whatever they read, and the organiser's choice is the better
guess (docs/decisions.md, "Welsh, and any language after it").
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_tenants.utils import get_public_schema_name

from core.members.models import Member
from core.members.services import LanguageRefused, member_language_set
from tenants.models import Network
from tenants.selectors import network_language as tenant_language


def _offered(code: str | None) -> str | None:
    return code if code and code in dict(settings.LANGUAGES) else None


def network_language(request: HttpRequest) -> str:
    """The language of the request's network for someone who has not chosen one."""
    tenant = getattr(request, "tenant", None)
    if isinstance(tenant, Network) and tenant.schema_name != get_public_schema_name():
        return tenant_language(tenant)
    return settings.LANGUAGE_CODE


def request_language(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if isinstance(user, Member) and _offered(user.language):
        return user.language
    cookie = _offered(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
    return cookie or network_language(request)


class NetworkLocaleMiddleware:
    """Django's LocaleMiddleware, but knowing networks and members: it runs after the
    tenant, session and authentication middleware. The language is active only for the
    request (the previous one comes back after it), so a thread that serves a Welsh page
    does not go on to write English members' emails in Welsh."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
        # The same address answers in another language to another cookie.
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """The switcher in every page's footer: sets the language cookie and goes back to the
    page (Django's set_language, which checks `next` is on this site), and saves the
    choice on the member's profile when someone is signed in."""
    language = request.POST.get("language", "")
    response = set_language(request)
    if not _offered(language):
        messages.error(request, _("Choose a language from the list."))
        return response
    user = request.user
    if isinstance(user, Member) and user.is_authenticated:
        try:
            member_language_set(actor=user, language=language)
        except LanguageRefused as refused:  # only if LANGUAGES changed under us
            messages.error(request, refused.message)
    return response

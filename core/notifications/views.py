from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.members.auth import acting_member
from kernel.db import connection
from kernel.pagination import CountingPaginator

from .models import IN_APP_OPTIONAL, Kind
from .push import push_enabled
from .selectors import (
    email_preferences,
    in_app_preferences,
    notification_list,
    notification_unread_count,
)
from .services import (
    email_preferences_set,
    email_unsubscribe,
    notification_mark_all_read,
    notification_mark_read,
)
from .unsubscribe import unsubscribe_read


@login_required
def notification_list_page(request: HttpRequest) -> HttpResponse:
    page = CountingPaginator(notification_list(member=acting_member(request)), 20).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {"page": page, "unread": notification_unread_count(member=acting_member(request))},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification_mark_read(actor=acting_member(request), notification_id=notification_id)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "notifications"
    return redirect(target)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notification_mark_all_read(actor=acting_member(request))
    messages.success(
        request,
        ngettext(
            "Marked %(count)d notification as read.",
            "Marked %(count)d notifications as read.",
            count,
        )
        % {"count": count},
    )
    return redirect("notifications")


@login_required
def email_settings_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        email_preferences_set(
            actor=acting_member(request),
            choices={kind: f"email_{kind}" in request.POST for kind in Kind.values},
            in_app={kind: f"in_app_{kind}" in request.POST for kind in IN_APP_OPTIONAL},
        )
        messages.success(request, _("Your email choices are saved."))
        return redirect("notification-settings")
    chosen = email_preferences(member=acting_member(request))
    kinds = [(kind, label, chosen[kind]) for kind, label in Kind.choices]
    shown = in_app_preferences(member=acting_member(request))
    in_app = [(kind, label, shown[kind]) for kind, label in IN_APP_OPTIONAL.items()]
    return render(
        request,
        "notifications/settings.html",
        {
            "kinds": kinds,
            "in_app": in_app,
            "push_key": settings.WEBPUSH_VAPID_PUBLIC_KEY if push_enabled() else "",
        },
    )


# RFC 8058: the mail program POSTs "List-Unsubscribe=One-Click" to the link with no cookies
# and no CSRF token; the signed token is what authorises it. A GET (someone following the
# link) only asks to confirm, so a link scanner that fetches it unsubscribes nobody.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    schema_name = connection.schema_name
    asked = unsubscribe_read(token, schema_name=schema_name)
    kind = Kind(asked.kind) if asked is not None and asked.kind in Kind.values else None
    if kind is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        if email_unsubscribe(schema_name=schema_name, token=token) is None:
            return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
        return render(request, "notifications/unsubscribe.html", {"done": True, "kind": kind})
    return render(request, "notifications/unsubscribe.html", {"kind": kind})

"""The platform-staff console on the public site: every network, and the staff actions
(suspend, resume, set the plan, export, delete). Staff accounts are `is_staff` members of the public
schema; network organisers and other accounts are refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_tenants.utils import get_public_schema_name

from core.audit.models import AuditEvent
from core.insights.selectors.platform import platform_insights
from core.members.auth import ThrottledAuthenticationForm, acting_member
from core.members.models import Member
from kernel.db import connection
from kernel.errors import ApplicationError

from .models import Network, Plan
from .selectors import network_list
from .services.billing import network_plan_set
from .services.networks import network_resume, network_suspend
from .services.overview import network_overview, network_overview_list
from .services.staff import network_delete, network_export


class StaffLoginForm(ThrottledAuthenticationForm):
    """Sign-in for platform staff, throttled: after five failures for an email address from
    one client (or any five from one client) sign-in is refused for fifteen minutes."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Please wait 15 minutes and try again.",
        "not_staff": "This is not a platform staff account.",
    }

    def confirm_login_allowed(self, user: Member) -> None:
        super().confirm_login_allowed(user)
        if not user.is_staff:
            raise ValidationError(self.error_messages["not_staff"], code="not_staff")


class StaffLoginView(auth_views.LoginView):
    form_class = StaffLoginForm
    template_name = "tenants/console/login.html"
    redirect_authenticated_user = False

    def get_default_redirect_url(self) -> str:
        return "/console/"


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Platform staff signed in on the public site only; anyone else is sent to sign in
    (anonymous) or refused (403)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if connection.schema_name != get_public_schema_name():
            raise Http404
        if not request.user.is_authenticated:
            return redirect(f"/console/login/?next={request.path}")
        if not acting_member(request).is_staff:
            return render(request, "tenants/console/refused.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _network(slug: str) -> Network:
    network = network_list().filter(slug=slug).first()
    if network is None:
        raise Http404
    return network


@staff_required
def console_home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "tenants/console/home.html",
        {"overviews": network_overview_list(actor=acting_member(request))},
    )


@staff_required
def console_insights(request: HttpRequest) -> HttpResponse:
    """Figures across every network, for staff: no member-level data."""
    insights = platform_insights(actor=acting_member(request))
    return render(request, "tenants/console/insights.html", {"insights": insights})


class SuspendForm(forms.Form):
    reason = forms.CharField(max_length=500)


class DeleteForm(forms.Form):
    confirmation = forms.CharField(max_length=40)


@staff_required
def console_network(request: HttpRequest, slug: str) -> HttpResponse:
    network = _network(slug)
    events = AuditEvent.objects.filter(target_type="tenants.network", target_id=str(network.pk))
    return render(
        request,
        "tenants/console/network.html",
        {
            "overview": network_overview(actor=acting_member(request), network=network),
            "events": events[:50],
            "exports": network.exports.order_by("-created_at")[:5],
            "plans": Plan.choices,
        },
    )


@require_POST
@staff_required
def console_network_action(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    network = _network(slug)
    actor = acting_member(request)
    try:
        if action == "suspend":
            network_suspend(actor=actor, network=network, reason=request.POST.get("reason", ""))
            messages.success(request, f"{network.name} is suspended.")
        elif action == "resume":
            network_resume(actor=actor, network=network, reason=request.POST.get("reason", ""))
            messages.success(request, f"{network.name} is active again.")
        elif action == "plan":
            network = network_plan_set(
                actor=actor,
                network=network,
                plan=request.POST.get("plan", ""),
                reason=request.POST.get("reason", ""),
            )
            messages.success(
                request, f"{network.name} is on the {network.get_plan_display()} plan."
            )
        elif action == "export":
            data = network_export(actor=actor, network=network)
            response = HttpResponse(data, content_type="application/zip")
            response["Content-Disposition"] = f'attachment; filename="{network.slug}-export.zip"'
            return response
        elif action == "delete":
            network_delete(
                actor=actor, network=network, confirmation=request.POST.get("confirmation", "")
            )
            messages.success(request, f"{network.name} has been deleted.")
            return redirect("console")
        else:
            raise Http404
    except ApplicationError as refusal:
        messages.error(request, refusal.message)
    return redirect("console-network", slug=network.slug)

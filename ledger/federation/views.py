"""An organiser's federation settings: whether the network exchanges time with others,
and with which."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.members.auth import acting_member
from kernel.db import connection
from kernel.errors import ApplicationError, PermissionDenied
from ledger.services import minutes_as_text
from tenants.models import Network

from .selectors import federation_view
from .services import federation_settings_update


@login_required
def federation_settings(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    network = Network.objects.get(pk=connection.tenant.pk)
    try:  # an organiser's page: forbidden (403) to others (docs/architecture.md)
        view = federation_view(actor=member, network=network)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    error = ""
    if request.method == "POST":
        try:
            partner_ids = {int(value) for value in request.POST.getlist("partners")}
            federation_settings_update(
                network=network,
                actor=member,
                opted_in=request.POST.get("opted_in") == "on",
                open_to_all=request.POST.get("open_to_all") == "on",
                partner_ids=partner_ids,
            )
        except ValueError:
            error = "Choose partners from the networks listed."
        except ApplicationError as refused:
            error = refused.message
        else:
            messages.success(request, _("Saved."))
            return redirect("federation-settings")
    position = view.membership.position if view.membership else 0
    return render(
        request,
        "federation/settings.html",
        {
            "view": view,
            "network": network,
            "error": error,
            "position": minutes_as_text(abs(position)),
            "owes": position > 0,
            "limit": minutes_as_text(view.membership.debit_limit) if view.membership else "",
        },
        status=400 if error else 200,
    )

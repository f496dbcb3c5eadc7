from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from core.members.auth import acting_member
from core.members.services import UNVERIFIED_GRACE_DAYS
from kernel.errors import ApplicationError
from ledger.selectors import member_balance

from .services import member_close, member_data_export


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """Account settings: download my data, close my account."""
    return render(request, "privacy/account.html")


@login_required
def data_download(request: HttpRequest) -> HttpResponse:
    archive = member_data_export(actor=acting_member(request))
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="hexitime-my-data.zip"'
    return response


class CloseForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("To be sure it is you."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


@login_required
def close(request: HttpRequest) -> HttpResponse:
    """The confirmation page, stating what closing does; closing itself on POST."""
    member = acting_member(request)
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member_close(actor=member, password=form.cleaned_data["password"])
        except ApplicationError as refused:
            form.add_error("password" if refused.field == "password" else None, refused.message)
        else:
            logout(request)
            messages.success(request, _("Your account is closed. Thank you for the time you gave."))
            return redirect("home")
    context = {"form": form, "balance": member_balance(member=member)}
    return render(request, "privacy/close.html", context)


def privacy(request: HttpRequest) -> HttpResponse:
    """What the network keeps about its members, and why (open to everyone)."""
    return render(request, "privacy/privacy.html", {"grace_days": UNVERIFIED_GRACE_DAYS})

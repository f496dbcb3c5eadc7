"""Pages for giving: from a member's profile, a project's page and the community pot; the
organisers' grant form and the giving limits."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.members.auth import acting_member
from core.members.models import Member, MemberState
from core.projects.selectors import access_project
from core.projects.views import HoursField
from kernel.errors import ApplicationError, NotFound
from kernel.forms import refusal_show
from ledger.selectors import member_balance
from ledger.services import minutes_as_text

from .models import LIMIT_MAX_MINUTES
from .selectors import access_gift_recipient, gift_allowance, giving_settings, pot_summary
from .services import gift_give, giving_settings_update, pot_grant


class GiftForm(forms.Form):
    minutes = HoursField(label=gettext_lazy("Hours to give"), most_hours=LIMIT_MAX_MINUTES // 60)
    message = forms.CharField(
        label=gettext_lazy("Message (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Only the receiver sees it (for a project, its lead)."),
    )
    # The request's name: sending the same form again gives once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class GrantForm(forms.Form):
    recipient = forms.TypedChoiceField(label=gettext_lazy("Member"), coerce=int)
    minutes = HoursField(label=gettext_lazy("Hours to grant"), most_hours=LIMIT_MAX_MINUTES // 60)
    reason = forms.CharField(
        label=gettext_lazy("Why does this member receive it?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "For example: a new starter, or credit lost in a dispute. The member sees this, "
            "and it is kept in the audit log."
        ),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, actor: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Member.objects.filter(
            state=MemberState.ACTIVE, is_active=True, is_staff=False
        ).exclude(pk=actor.pk)
        self.fields["recipient"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose a member")),
            *((m.pk, f"{m.full_name} ({m.email})") for m in members.order_by("full_name", "pk")),
        ]


class LimitsForm(forms.Form):
    member_monthly_minutes = HoursField(
        label=gettext_lazy("Most a member may give in a month (hours)"),
        most_hours=LIMIT_MAX_MINUTES // 60,
        least_hours=Decimal(0),
        help_text=gettext_lazy("In whole or quarter hours; 0 stops members giving."),
    )
    pot_monthly_minutes = HoursField(
        label=gettext_lazy("Most organisers may grant from the pot in a month (hours)"),
        most_hours=LIMIT_MAX_MINUTES // 60,
        least_hours=Decimal(0),
        help_text=gettext_lazy("In whole or quarter hours; 0 stops grants."),
    )


def _give_page(
    request: HttpRequest, *, target: dict[str, Any], heading: str, back: str, done: str
) -> HttpResponse:
    """The gift form for one target (`recipient=` or `project=`, or neither for the pot)."""
    member = acting_member(request)
    data = request.POST.copy() if request.method == "POST" else None
    form = GiftForm(data, initial={"key": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data
        try:
            gift = gift_give(
                actor=member,
                minutes=fields["minutes"],
                message=fields["message"],
                key=fields["key"],
                **target,
            )
        except ApplicationError as refused:
            refusal_show(form, refused)
            if data is not None:  # nothing was given: the corrected form is a new request
                data["key"] = uuid.uuid4().hex
        else:
            messages.success(request, done % {"amount": minutes_as_text(gift.minutes)})
            return redirect(back)
    return render(
        request,
        "giving/give.html",
        {
            "form": form,
            "heading": heading,
            "back": back,
            "balance": member_balance(member=member),
            "allowance": gift_allowance(member=member),
        },
    )


@login_required
def give_member(request: HttpRequest, member_id: int) -> HttpResponse:
    try:
        recipient = access_gift_recipient(member_id, member=acting_member(request))
    except NotFound:
        raise Http404("No such member") from None
    return _give_page(
        request,
        target={"recipient": recipient},
        heading=_("Give credit to %(name)s") % {"name": recipient.full_name},
        back=f"/members/{recipient.pk}/",
        done=_("You gave %(name)s %%(amount)s of credit.") % {"name": recipient.full_name},
    )


@login_required
def give_project(request: HttpRequest, project_id: int) -> HttpResponse:
    try:
        project = access_project(project_id, member=acting_member(request))
    except NotFound:
        raise Http404("No such project") from None
    return _give_page(
        request,
        target={"project": project},
        heading=_("Give credit to the project “%(title)s”") % {"title": project.title},
        back=f"/projects/{project.pk}/",
        done=_("You gave %%(amount)s to “%(title)s”.") % {"title": project.title},
    )


@login_required
def give_pot(request: HttpRequest) -> HttpResponse:
    return _give_page(
        request,
        target={},
        heading=_("Give credit to the community pot"),
        back="/giving/pot/",
        done=_("You gave %(amount)s to the community pot. Thank you."),
    )


@login_required
def pot_page(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    return render(
        request,
        "giving/pot.html",
        {
            "pot": pot_summary(viewer=member),
            "allowance": gift_allowance(member=member),
            "can_manage": member.has_perm("giving.manage_pot"),
        },
    )


@login_required
def pot_grant_view(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    if not member.has_perm("giving.manage_pot"):
        raise DjangoPermissionDenied
    data = request.POST.copy() if request.method == "POST" else None
    initial = {"key": uuid.uuid4().hex, "recipient": request.GET.get("member")}
    form = GrantForm(data, initial=initial, actor=member)
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data
        try:
            recipient = access_gift_recipient(fields["recipient"], member=member)
            gift = pot_grant(
                actor=member,
                recipient=recipient,
                minutes=fields["minutes"],
                reason=fields["reason"],
                key=fields["key"],
            )
        except ApplicationError as refused:
            refusal_show(form, refused)
            if data is not None:
                data["key"] = uuid.uuid4().hex
        else:
            messages.success(
                request,
                _("%(name)s received %(amount)s from the pot.")
                % {"name": recipient.full_name, "amount": minutes_as_text(gift.minutes)},
            )
            return redirect("giving-pot")
    return render(
        request, "giving/grant.html", {"form": form, "pot": pot_summary(viewer=member, recent=0)}
    )


@login_required
def giving_settings_view(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    if not member.has_perm("giving.manage_pot"):
        raise DjangoPermissionDenied
    limits = giving_settings()
    initial = {
        "member_monthly_minutes": limits.member_monthly_minutes / 60,
        "pot_monthly_minutes": limits.pot_monthly_minutes / 60,
    }
    form = LimitsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            giving_settings_update(actor=member, **form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(request, _("The giving limits are saved."))
            return redirect("giving-settings")
    return render(request, "giving/settings.html", {"form": form})

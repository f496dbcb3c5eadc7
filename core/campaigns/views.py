from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from core.members.models import Member
from kernel.errors import ApplicationError, NotFound
from kernel.forms import refusal_show

from .models import DESCRIPTION_LIMIT, TARGET_MAX_HOURS, TITLE_LIMIT, Campaign, CampaignItem
from .selectors import (
    access_campaign,
    campaign_is_running,
    campaign_items,
    campaign_list,
    campaign_members_count,
    campaign_taggable,
    campaign_thing,
)
from .services import (
    MANAGE,
    campaign_close,
    campaign_create,
    campaign_item_add,
    campaign_item_remove,
    campaign_join,
    campaign_leave,
    campaign_update,
)


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_LIMIT)
    description = forms.CharField(
        label=_("What the campaign is about"),
        max_length=DESCRIPTION_LIMIT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))
    target_hours = forms.IntegerField(
        label=_("Target (hours)"),
        min_value=1,
        max_value=TARGET_MAX_HOURS,
        help_text=_("Hours of exchanges, group sessions and project work to aim for."),
    )

    def campaign_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["target_minutes"] = data.pop("target_hours") * 60
        return data


# The service's field names that the campaign form calls otherwise.
_FORM_FIELDS = {"target_minutes": "target_hours"}


def _campaign(request: HttpRequest, campaign_id: int) -> tuple[Member, Campaign]:
    member = acting_member(request)
    try:
        return member, access_campaign(campaign_id, member=member)
    except NotFound:
        raise Http404("No such campaign") from None


def _organiser(member: Member) -> None:
    if not member.has_perm(MANAGE):
        raise DjangoPermissionDenied


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    return render(
        request,
        "campaigns/list.html",
        {
            "campaigns": list(campaign_list(member=member)),
            "today": timezone.localdate(),
        },
    )


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    _organiser(member)
    form = CampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(actor=member, **form.campaign_fields())
        except ApplicationError as refused:
            refusal_show(form, refused, fields=_FORM_FIELDS)
        else:
            messages.success(request, _("The campaign is set up. Add what belongs to it."))
            return redirect("campaign-detail", campaign_id=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": None})


@login_required
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    _organiser(member)
    initial = {
        "title": campaign.title,
        "description": campaign.description,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "target_hours": campaign.target_minutes // 60,
    }
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_update(actor=member, campaign=campaign, **form.campaign_fields())
        except ApplicationError as refused:
            refusal_show(form, refused, fields=_FORM_FIELDS)
        else:
            messages.success(request, _("The campaign is saved."))
            return redirect("campaign-detail", campaign_id=campaign.pk)
    return render(request, "campaigns/form.html", {"form": form, "campaign": campaign})


@login_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    organiser = member.has_perm(MANAGE)
    items = campaign_items(campaign=campaign)
    today = timezone.localdate()
    running = campaign_is_running(campaign, on=today)
    ended = campaign.closed_at is not None or campaign.ends_on < today
    can_tag = not ended and (running or organiser)
    return render(
        request,
        "campaigns/detail.html",
        {
            "campaign": campaign,
            "items": items,
            "running": running,
            "organiser": organiser,
            "ended": ended,
            "today": today,
            "members_count": campaign_members_count(campaign=campaign),
            "taggable": campaign_taggable(campaign=campaign, member=member) if can_tag else None,
        },
    )


def _done(
    request: HttpRequest,
    campaign_id: int,
    action: Callable[..., object],
    done: str,
    **kwargs: Any,
) -> HttpResponse:
    try:
        action(**kwargs)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    if request.POST.get("next") == "home":  # joined from the home page's card
        return redirect("home")
    return redirect("campaign-detail", campaign_id=campaign_id)


@login_required
@require_POST
def campaign_close_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    return _done(
        request,
        campaign_id,
        campaign_close,
        str(_("The campaign is closed.")),
        actor=member,
        campaign=campaign,
    )


@login_required
@require_POST
def campaign_join_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    return _done(
        request,
        campaign_id,
        campaign_join,
        str(_("You joined “%(title)s”.") % {"title": campaign.title}),
        actor=member,
        campaign=campaign,
    )


@login_required
@require_POST
def campaign_leave_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    return _done(
        request,
        campaign_id,
        campaign_leave,
        str(_("You left the campaign.")),
        actor=member,
        campaign=campaign,
    )


def _chosen(request: HttpRequest) -> dict[str, Any]:
    """The one item the form names (`listing:12`), fetched in this network."""
    kind, _sep, raw = request.POST.get("item", "").partition(":")
    if not raw.isdigit():
        raise NotFound(str(_("Choose something to add.")))
    return campaign_thing(kind=kind, thing_id=int(raw))


@login_required
@require_POST
def campaign_item_add_view(request: HttpRequest, campaign_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    try:
        chosen = _chosen(request)
    except NotFound as missing:
        messages.error(request, missing.message)
        return redirect("campaign-detail", campaign_id=campaign_id)
    return _done(
        request,
        campaign_id,
        campaign_item_add,
        str(_("Added to the campaign.")),
        actor=member,
        campaign=campaign,
        **chosen,
    )


@login_required
@require_POST
def campaign_item_remove_view(request: HttpRequest, campaign_id: int, item_id: int) -> HttpResponse:
    member, campaign = _campaign(request, campaign_id)
    item = CampaignItem.objects.filter(pk=item_id, campaign=campaign).first()
    if item is None:
        raise Http404("No such item")
    return _done(
        request,
        campaign_id,
        campaign_item_remove,
        str(_("Removed from the campaign.")),
        actor=member,
        item=item,
    )

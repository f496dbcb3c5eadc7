"""Announcement pages: organisers write, preview, send or schedule, cancel, and follow
delivery under /announcements/organiser/; members dismiss one from their home page (htmx
swaps it out; without JavaScript the form posts and returns home)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from core.members.models import Member, Profession, Role
from kernel.errors import ApplicationError, NotFound
from kernel.forms import refusal_show
from kernel.pagination import CountingPaginator

from .models import BODY_MAX, TITLE_MAX, Announcement, Audience, Delivery, State
from .selectors import (
    PERMISSION,
    access_announcement,
    announcement_list,
    audience_members,
    delivery_counts,
)
from .services import (
    announcement_cancel,
    announcement_create,
    announcement_dismiss,
    announcement_send,
)


class AnnouncementForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX)
    body = forms.CharField(
        label=gettext_lazy("What do you want to tell members?"),
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy(
            "Plain text. Members see it on their home page until they "
            "dismiss it, and by email if they chose it."
        ),
    )
    audience = forms.ChoiceField(
        label=gettext_lazy("Who is it for?"), choices=Audience.choices, initial=Audience.ALL
    )
    role = forms.ChoiceField(
        label=gettext_lazy("Role (if for members with a role)"),
        required=False,
        choices=[("", "—"), *Role.choices],
    )
    profession = forms.ChoiceField(
        label=gettext_lazy("Profession (if for members of a profession)"),
        required=False,
        choices=[("", "—"), *Profession.choices],
    )
    organisation = forms.CharField(
        label=gettext_lazy("Organisation (if for members of an organisation)"),
        required=False,
        max_length=150,
    )

    def audience_value(self) -> str:
        audience = self.cleaned_data["audience"]
        return str(self.cleaned_data.get(audience, "")) if audience != Audience.ALL else ""


class SendForm(forms.Form):
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send at (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=gettext_lazy("Leave empty to send now."),
    )


def _organiser(request: HttpRequest) -> Member:
    member = acting_member(request)
    if not member.has_perm(PERMISSION):
        raise Http404("No such page")
    return member


def _access(request: HttpRequest, announcement_id: int) -> tuple[Member, Announcement]:
    member = _organiser(request)
    try:
        return member, access_announcement(announcement_id, member=member)
    except NotFound:
        raise Http404("No such announcement") from None


@login_required
def organiser_list(request: HttpRequest) -> HttpResponse:
    member = _organiser(request)
    page = CountingPaginator(announcement_list(actor=member), 25).get_page(request.GET.get("page"))
    return render(request, "announcements/list.html", {"page": page})


@login_required
def organiser_new(request: HttpRequest) -> HttpResponse:
    member = _organiser(request)
    form = AnnouncementForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                announcement = announcement_create(
                    actor=member,
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                    audience=form.cleaned_data["audience"],
                    audience_value=form.audience_value(),
                )
            except ApplicationError as refused:
                refusal_show(
                    form, refused, fields={"audience_value": form.cleaned_data["audience"]}
                )
            else:
                messages.success(
                    request, _("Draft saved. Check it below, then send or schedule it.")
                )
                return redirect("announcement-organiser-detail", announcement.pk)
        status = 400
    return render(request, "announcements/new.html", {"form": form}, status=status)


@login_required
def organiser_detail(request: HttpRequest, announcement_id: int) -> HttpResponse:
    """The preview (as members will see it) with the send and schedule form while a
    draft; the delivery counts once sent."""
    member, announcement = _access(request, announcement_id)
    form = SendForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                announcement = announcement_send(
                    actor=member,
                    announcement=announcement,
                    send_at=form.cleaned_data["send_at"],
                )
            except ApplicationError as refused:
                refusal_show(form, refused)
            else:
                if announcement.state == State.SCHEDULED:
                    messages.success(request, _("Scheduled."))
                else:
                    messages.success(
                        request,
                        _("Sent. Members see it on their home page; the emails are on their way."),
                    )
                return redirect("announcement-organiser-detail", announcement.pk)
        status = 400
    reach = None
    if announcement.state in (State.DRAFT, State.SCHEDULED):
        reach = audience_members(
            audience=announcement.audience, value=announcement.audience_value
        ).count()
    delivered = delivery_counts(announcement)
    counts = [(label, delivered[state]) for state, label in Delivery.choices]
    return render(
        request,
        "announcements/detail.html",
        {
            "announcement": announcement,
            "form": form,
            "reach": reach,
            "counts": counts,
            "reached": delivered["reached"],
        },
        status=status,
    )


@login_required
@require_POST
def organiser_cancel(request: HttpRequest, announcement_id: int) -> HttpResponse:
    member, announcement = _access(request, announcement_id)
    try:
        announcement_cancel(actor=member, announcement=announcement)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Cancelled: it will not be sent."))
    return redirect("announcement-organiser-detail", announcement.pk)


@login_required
@require_POST
def dismiss(request: HttpRequest, announcement_id: int) -> HttpResponse:
    """Hide an announcement from the member's home page. htmx swaps the announcement out
    (an empty answer); a plain form post goes back home."""
    announcement_dismiss(actor=acting_member(request), announcement_id=announcement_id)
    if getattr(request, "htmx", False):
        return HttpResponse("")
    messages.success(request, _("Announcement dismissed."))
    return redirect("home")

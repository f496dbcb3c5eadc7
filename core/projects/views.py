from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
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
from core.members.skills import SKILL_CHOICES
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.forms import refusal_show
from kernel.pagination import CountingPaginator
from ledger.services import minutes_as_text

from .models import BUDGET_MAX_MINUTES, Project
from .selectors import (
    access_project,
    access_volunteer,
    project_confirmations,
    project_list,
    project_progress,
    project_volunteers,
)
from .services import (
    project_close,
    project_decline,
    project_decline_require,
    project_fund,
    project_propose,
    project_propose_require,
    volunteer_confirm_hours,
    volunteer_confirm_require,
    volunteer_pledge,
)


class HoursField(forms.DecimalField):
    """Hours typed as a number (2, 1.5, 0.25), cleaned to whole minutes."""

    def __init__(
        self,
        *,
        most_hours: int = BUDGET_MAX_MINUTES // 60,
        least_hours: Decimal = Decimal("0.25"),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("help_text", "In whole or quarter hours, for example 2 or 1.75.")
        super().__init__(
            min_value=least_hours, max_value=most_hours, max_digits=7, decimal_places=2, **kwargs
        )
        self.widget.attrs.update({"step": "0.25", "inputmode": "decimal"})

    def clean(self, value: object) -> int | None:
        hours = super().clean(value)
        if hours is None:
            return None
        if (hours * 4) % 1:
            raise forms.ValidationError("Enter whole or quarter hours, for example 2 or 1.75.")
        return int(hours * 60)


class ProposeForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120)
    aim = forms.CharField(
        label=_("Aim"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What will improve, by how much, by when."),
    )
    description = forms.CharField(
        label=_("Describe the project and what volunteers will do"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    budget_minutes = HoursField(label=_("Hours budget"))
    curated_skills = forms.MultipleChoiceField(
        label=_("Skills wanted"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=SKILL_CHOICES,
    )
    other_skills = forms.CharField(
        label=_("Other skills wanted"),
        max_length=600,
        required=False,
        help_text=_("Separate them with commas."),
    )
    starts_on = forms.DateField(
        label=_("Starts on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(label=_("Ends on"), widget=forms.DateInput(attrs={"type": "date"}))

    def project_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        other = [tag for tag in data.pop("other_skills").split(",") if tag.strip()]
        data["skills_wanted"] = [*data.pop("curated_skills"), *other]
        return data


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the project declined?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The lead will see this."),
    )


class PledgeForm(forms.Form):
    pledged_minutes = HoursField(label=_("How many hours can you give?"))


class ConfirmForm(forms.Form):
    volunteer = forms.TypedChoiceField(label=_("Volunteer"), coerce=int)
    minutes = HoursField(label=_("Hours given"))
    # One confirmation per volunteer and day: sending it again pays nothing more.
    worked_on = forms.DateField(
        label=_("Day the hours were given"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        volunteers = project_volunteers(project=project)
        self.fields["volunteer"].choices = [(v.pk, v.member.full_name) for v in volunteers]  # type: ignore[attr-defined]


# The service's field names that the project form calls otherwise.
_FORM_FIELDS = {"skills_wanted": "other_skills"}


def _project(request: HttpRequest, project_id: int) -> tuple[Member, Project]:
    member = acting_member(request)
    try:
        return member, access_project(project_id, member=member)
    except NotFound:
        raise Http404("No such project") from None


def _permitted(require: Callable[..., object], **arguments: Any) -> None:
    """A page whose form only some may use asks the service's own rule before showing it.
    Refused is forbidden (403): the member may know the page or the project exists, but
    not act (docs/architecture.md, "403 or 404")."""
    try:
        require(**arguments)
    except PermissionDenied:
        raise DjangoPermissionDenied from None


@login_required
def projects(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    state = request.GET.get("state", "")
    found = project_list(member=member, state=state if state in Project.State.values else "")
    page = CountingPaginator(found, 20).get_page(request.GET.get("page"))
    items = [(project, project_progress(project=project)) for project in page.object_list]
    return render(
        request,
        "projects/list.html",
        {
            "page": page,
            "items": items,
            "state": state,
            "states": Project.State.choices,
        },
    )


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    _permitted(project_propose_require, actor=member)
    form = ProposeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_propose(actor=member, **form.project_fields())
        except ApplicationError as refused:
            refusal_show(form, refused, fields=_FORM_FIELDS)
        else:
            messages.success(request, _("Your project is proposed. An organiser will review it."))
            return redirect("project-detail", project_id=project.pk)
    return render(request, "projects/form.html", {"form": form})


@login_required
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    member, project = _project(request, project_id)
    volunteers = list(project_volunteers(project=project))
    return render(
        request,
        "projects/detail.html",
        {
            "project": project,
            "progress": project_progress(project=project),
            "volunteers": volunteers,
            "is_lead": project.lead_id == member.pk,
            "has_volunteered": any(v.member_id == member.pk for v in volunteers),
            "can_fund": member.has_perm("projects.fund_project"),
            "confirmations": project_confirmations(project=project)[:20],
        },
    )


def _act(
    request: HttpRequest, project_id: int, action: Callable[..., object], done: str
) -> HttpResponse:
    member, project = _project(request, project_id)
    try:
        action(actor=member, project=project)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done)
    return redirect("project-detail", project_id=project_id)


@login_required
@require_POST
def project_fund_view(request: HttpRequest, project_id: int) -> HttpResponse:
    return _act(request, project_id, project_fund, "The project is approved and funded.")


@login_required
@require_POST
def project_close_view(request: HttpRequest, project_id: int) -> HttpResponse:
    return _act(
        request,
        project_id,
        project_close,
        "The project is closed; its unspent budget went back to the network.",
    )


@login_required
def project_decline_view(request: HttpRequest, project_id: int) -> HttpResponse:
    member, project = _project(request, project_id)
    _permitted(project_decline_require, actor=member)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project_decline(actor=member, project=project, reason=form.cleaned_data["reason"])
        except ApplicationError as refused:
            refusal_show(form, refused, fields=_FORM_FIELDS)
        else:
            messages.success(request, _("The project is declined; its lead has been told why."))
            return redirect("project-detail", project_id=project_id)
    return render(request, "projects/decline.html", {"form": form, "project": project})


@login_required
def project_volunteer_view(request: HttpRequest, project_id: int) -> HttpResponse:
    member, project = _project(request, project_id)
    form = PledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            volunteer_pledge(actor=member, project=project, **form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused, fields=_FORM_FIELDS)
        else:
            messages.success(request, _("Thank you for volunteering. The project's lead is told."))
            return redirect("project-detail", project_id=project_id)
    return render(request, "projects/volunteer.html", {"form": form, "project": project})


@login_required
def project_confirm_view(request: HttpRequest, project_id: int) -> HttpResponse:
    member, project = _project(request, project_id)
    _permitted(volunteer_confirm_require, actor=member, project=project)
    initial = {
        "key": uuid.uuid4().hex,
        "volunteer": request.GET.get("volunteer"),
        "worked_on": timezone.localdate(),
    }
    data = request.POST.copy() if request.method == "POST" else None
    form = ConfirmForm(data, initial=initial, project=project)
    if request.method == "POST" and form.is_valid():
        fields = form.cleaned_data
        try:
            volunteer = access_volunteer(fields["volunteer"], project=project)
            confirmation = volunteer_confirm_hours(
                actor=member,
                project=project,
                volunteer=volunteer,
                minutes=fields["minutes"],
                worked_on=fields["worked_on"],
                key=fields["key"],
            )
        except ApplicationError as refused:
            refusal_show(form, refused, fields=_FORM_FIELDS)
            # This request paid nothing, so the corrected form goes under a new key.
            if data is not None:
                data["key"] = uuid.uuid4().hex
        else:
            paid = minutes_as_text(confirmation.minutes)
            if confirmation.key != fields["key"]:  # this day was confirmed by an earlier form
                messages.info(
                    request,
                    f"{volunteer.member}'s hours for that day were already "
                    f"confirmed ({paid}); nothing more was paid.",
                )
            else:
                messages.success(request, f"Confirmed: {volunteer.member} has been paid {paid}.")
            return redirect("project-detail", project_id=project_id)
    progress = project_progress(project=project)
    return render(
        request, "projects/confirm.html", {"form": form, "project": project, "progress": progress}
    )

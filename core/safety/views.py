"""Report pages: a member reports something from the page it is on; organisers work
through the queue and act on each report."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.members.auth import acting_member
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.forms import refusal_show
from kernel.pagination import CountingPaginator

from .models import DETAILS_MAX, Category, TargetKind
from .selectors import report_queue, reports_on_target
from .services import access_report, report_act, report_create, report_outcomes, report_target


class ReportForm(forms.Form):
    category = forms.ChoiceField(
        label=gettext_lazy("What is the problem?"),
        choices=Category.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the reason that fits best.")},
    )
    details = forms.CharField(
        label=gettext_lazy("Tell the organisers more (optional)"),
        required=False,
        max_length=DETAILS_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Only the organisers read this. They never tell the other person who reported it."
        ),
    )


class ActForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("What do you do?"),
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose an action.")},
    )
    note = forms.CharField(
        label=gettext_lazy("Note for the record"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "A warned member reads this note; a hidden listing's poster sees it as the reason."
        ),
        error_messages={
            "required": gettext_lazy("Write a note for the record: what you did and why.")
        },
    )

    def __init__(self, *args: Any, outcomes: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["outcome"]).choices = outcomes


@login_required
def report_new(request: HttpRequest, kind: str, target_id: int) -> HttpResponse:
    """Report a listing, message, profile or exchange the member can see."""
    member = acting_member(request)
    if kind not in TargetKind.values:
        raise Http404("No such page")
    try:
        target = report_target(kind, target_id, member=member)
    except NotFound:
        raise Http404("Nothing to report here") from None
    form = ReportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report_create(
                    actor=member, target_kind=kind, target_id=target_id, **form.cleaned_data
                )
            except NotFound:
                raise Http404("Nothing to report here") from None
            except ApplicationError as refused:
                refusal_show(form, refused)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you: the organisers have your report and "
                        "will look at it. Nobody else is told who "
                        "reported it."
                    ),
                )
                return redirect(target.url)
        status = 400
    return render(
        request,
        "safety/report_form.html",
        {
            "form": form,
            "kind": TargetKind(kind).label,
            "target": target,
        },
        status=status,
    )


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    """The organisers' queue: open reports oldest first, or those dealt with. Forbidden
    (403) to other members: anyone may know the queue exists (docs/architecture.md)."""
    handled = request.GET.get("show") == "handled"
    try:
        queue = report_queue(actor=acting_member(request), handled=handled)
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    page = CountingPaginator(queue, 25).get_page(request.GET.get("page"))
    return render(request, "safety/queue.html", {"page": page, "handled": handled})


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """One report, the others on the same target, and the organiser's action. A report
    the member may not see is not found (404); their own is forbidden (403): they know
    it exists but this is the organisers' page (docs/architecture.md)."""
    member = acting_member(request)
    try:
        report = access_report(report_id, member=member)
        others = reports_on_target(report, actor=member).exclude(pk=report.pk)
    except NotFound:
        raise Http404("No such report") from None
    except PermissionDenied:
        raise DjangoPermissionDenied from None
    outcomes = [(o.value, str(o.label)) for o in report_outcomes(report)]
    form = ActForm(request.POST or None, outcomes=outcomes)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                report_act(actor=member, report=report, **form.cleaned_data)
            except ApplicationError as refused:
                refusal_show(form, refused)
            else:
                messages.success(
                    request,
                    _(
                        "Done. The report is closed, with any others on "
                        "the same thing, and the reporters are told it "
                        "was looked at."
                    ),
                )
                return redirect("reports")
        status = 400
    return render(
        request,
        "safety/report.html",
        {
            "report": report,
            "form": form,
            "others": others,
        },
        status=status,
    )

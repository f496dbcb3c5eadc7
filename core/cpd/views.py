"""The member's learning record page, their notes on entries, the downloads, and the public
verification page an appraiser opens from a PDF."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from kernel.csvfile import csv_download, csv_text
from kernel.errors import NotFound
from kernel.forms import refusal_show
from tenants.selectors import network_current, network_url

from .models import Format, Record, Scheme
from .pdf import record_pdf
from .schemes import TARGETS, scheme_period
from .selectors import Verdict, cpd_entries, cpd_entry, cpd_scheme, cpd_totals, record_verify
from .services import CpdRefused, code_format, cpd_note_save, cpd_record_issue, cpd_scheme_set
from .throttles import VerifyThrottled, verify_throttle


class RangeForm(forms.Form):
    start = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        help_text=gettext_lazy("Up to and including this day."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("start", _("The start date must be on or before the end date."))
        return data


class SchemeForm(forms.Form):
    scheme = forms.ChoiceField(
        label=gettext_lazy("The scheme you revalidate under"), choices=Scheme.choices
    )


class NoteForm(forms.Form):
    reflection = forms.CharField(
        label=gettext_lazy("Your reflection (private)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "What you learned, how it changed your practice, and how it "
            "relates to the Code or your standards. Only you see it: it "
            "is never in a download or a verification."
        ),
    )
    participatory = forms.TypedChoiceField(
        label=gettext_lazy("Participatory (learning with others)?"),
        required=False,
        coerce=lambda value: {"yes": True, "no": False}.get(value),
        empty_value=None,
        choices=[
            ("", gettext_lazy("As recorded")),
            ("yes", gettext_lazy("Yes")),
            ("no", gettext_lazy("No")),
        ],
    )
    topic = forms.CharField(
        label=gettext_lazy("Topic"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("Leave empty to keep the listing's."),
    )
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        required=False,
        choices=[("", gettext_lazy("As recorded")), *Format.choices],
    )


def _range(request: HttpRequest, scheme: str) -> tuple[RangeForm, tuple[Any, Any] | None]:
    """The range asked for, or the scheme's period ending today."""
    if not request.GET:
        start, end = scheme_period(scheme, today=timezone.localdate())
        return RangeForm(initial={"start": start, "end": end}), (start, end)
    form = RangeForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, (form.cleaned_data["start"], form.cleaned_data["end"])


@login_required
def record_page(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    scheme = cpd_scheme(member=member)
    form, dates = _range(request, scheme)
    context: dict[str, Any] = {
        "form": form,
        "scheme_form": SchemeForm(initial={"scheme": scheme}),
        "scheme": Scheme(scheme),
        "target": TARGETS[scheme],
    }
    if dates is not None:
        shown = cpd_entries(member=member, start=dates[0], end=dates[1])
        reflections = sum(1 for entry in shown if entry.reflection)
        context.update(
            entries=shown,
            start=dates[0],
            end=dates[1],
            totals=cpd_totals([e.row() for e in shown], scheme=scheme, reflections=reflections),
            query=_query(dates[0], dates[1]),
        )
    return render(request, "cpd/record.html", context)


def _query(start: datetime.date | None, end: datetime.date | None) -> str:
    return f"start={start.isoformat() if start else ''}&end={end.isoformat() if end else ''}"


@login_required
@require_POST
def scheme_view(request: HttpRequest) -> HttpResponse:
    form = SchemeForm(request.POST)
    if form.is_valid():
        cpd_scheme_set(actor=acting_member(request), scheme=form.cleaned_data["scheme"])
        messages.success(
            request,
            _("Your record is now measured against %(scheme)s.")
            % {"scheme": Scheme(form.cleaned_data["scheme"]).label},
        )
    else:
        messages.error(request, _("Choose one of the schemes offered."))
    return redirect("cpd-record")


@login_required
def entry_edit(request: HttpRequest, source: str, source_id: int) -> HttpResponse:
    member = acting_member(request)
    try:
        shown = cpd_entry(member=member, source=source, source_id=source_id)
    except NotFound:
        raise Http404("No such entry") from None
    if request.method == "POST":
        form = NoteForm(request.POST)
        if form.is_valid():
            try:
                cpd_note_save(actor=member, source=source, source_id=source_id, **form.cleaned_data)
            except CpdRefused as refused:
                refusal_show(form, refused)
            else:
                messages.success(request, _("Saved to your record."))
                return redirect("cpd-record")
    else:
        default = shown.entry
        form = NoteForm(
            initial={
                "reflection": shown.reflection,
                "topic": shown.topic if shown.topic != default.topic else "",
                "format": shown.format if shown.format != default.format else "",
                "participatory": (
                    ""
                    if shown.participatory == default.participatory
                    else ("yes" if shown.participatory else "no")
                ),
            }
        )
    return render(request, "cpd/entry.html", {"shown": shown, "form": form})


def _issue(request: HttpRequest, data: QueryDict) -> Record | None:
    form = RangeForm(data)
    if not form.is_valid():
        return None
    return cpd_record_issue(
        actor=acting_member(request), start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )


def verify_url(request: HttpRequest, code: str) -> str:
    return network_url(network_current(), reverse("cpd-verify", args=[code_format(code)]))


@login_required
@require_POST
def record_pdf_view(request: HttpRequest) -> HttpResponse:
    """Issue the record for the range (or find the one already issued for the same rows)
    and download it as PDF."""
    try:
        record = _issue(request, request.POST)
    except CpdRefused as refused:
        messages.error(request, refused.message)
        return redirect("cpd-record")
    if record is None:
        messages.error(request, _("Check the dates: the start must be on or before the end."))
        return redirect("cpd-record")
    body = record_pdf(
        record=record,
        network_name=network_current().name,
        verify_url=verify_url(request, record.code),
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="cpd-record-{record.code}.pdf"'
    return response


@login_required
def record_csv(request: HttpRequest) -> HttpResponse:
    """The record's rows for the range as CSV (no reflections: the CSV may be shared too)."""
    member = acting_member(request)
    form = RangeForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    shown = cpd_entries(
        member=member, start=form.cleaned_data["start"], end=form.cleaned_data["end"]
    )
    header = ["date", "minutes", "format", "role", "topic", "participatory", "counts as CPD"]
    rows = [
        [
            e.entry.on.isoformat(),
            e.entry.minutes,
            e.format,
            e.entry.role,
            e.topic,
            "yes" if e.participatory else "no",
            "yes" if e.entry.counts else "no",
        ]
        for e in shown
    ]
    return csv_download(csv_text([header, *rows]), filename="hexitime-cpd-record.csv")


def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public: whether the record with this code is genuine and unchanged, with its rows
    and totals (never reflections). Unknown here, including another network's: 404."""
    try:
        verify_throttle(request)
        verification = record_verify(code=code)
    except VerifyThrottled as refused:
        return render(request, "cpd/verify.html", {"refused": refused.message}, status=429)
    except NotFound:
        return render(request, "cpd/verify.html", {"unknown": True, "code": code}, status=404)
    context = {
        "verification": verification,
        "genuine": verification.verdict is Verdict.GENUINE,
        "code": code_format(verification.record.code),
    }
    return render(request, "cpd/verify.html", context)


def verify_form(request: HttpRequest) -> HttpResponse:
    """Public: type a code from a PDF."""
    code = request.GET.get("code", "").strip()
    if code:
        return redirect("cpd-verify", code=code[:40])
    return render(request, "cpd/verify_form.html")

"""Pages for equality monitoring: a member's own answers (under their profile settings)
and the organisers' report with its CSV download."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.insights.models import (
    BACKGROUND_EXAMPLES,
    ETHNIC_GROUP_SECTIONS,
    PREFER_NOT_TO_SAY,
    AgeBand,
    Background,
    Disability,
    Gender,
)
from core.insights.selectors.equality import (
    REPORT_PERMISSION,
    equality_answers_get,
    equality_report,
)
from core.insights.services.equality import (
    equality_answers_save,
    equality_answers_withdraw,
    equality_report_export,
)
from core.members.auth import acting_member
from kernel.csvfile import csv_download
from kernel.errors import ApplicationError
from kernel.forms import refusal_show
from tenants.selectors import network_current

if TYPE_CHECKING:
    from django.utils.choices import _ChoicesInput

ANSWER_REQUIRED = {"required": "Choose an answer, or “Prefer not to say”."}


def _radios(label: str, choices: _ChoicesInput, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        help_text=help_text,
        error_messages=ANSWER_REQUIRED,
    )


_PREFER_NOT = (PREFER_NOT_TO_SAY, "Prefer not to say")


def _background_label(value: str, label: str) -> str:
    """The answer with the Social Mobility Commission's examples of its jobs."""
    if value not in BACKGROUND_EXAMPLES:
        return label
    return f"{'Other' if value == Background.OTHER else label}, {BACKGROUND_EXAMPLES[value]}"


class EqualityForm(forms.Form):
    ethnic_group = _radios(
        "What is your ethnic group?",
        [
            *(
                (title, [(g.value, g.label) for g in groups])
                for title, groups in ETHNIC_GROUP_SECTIONS
            ),
            _PREFER_NOT,
        ],
        "The categories of the 2021 census in England and Wales.",
    )
    gender = _radios("What is your gender?", Gender.choices)
    age_band = _radios("How old are you?", AgeBand.choices)
    disability = _radios(
        "Are you disabled, as the Equality Act 2010 defines it?",
        Disability.choices,
        "You are disabled under the Act if you have a physical or mental impairment that has "
        "a substantial and long-term negative effect on your ability to do normal daily "
        "activities.",
    )
    background = _radios(
        "What was the occupation of your main household earner when you were about 14?",
        [(v, _background_label(v, str(label))) for v, label in Background.choices],
        "The main household earner is the person who earned the most. If they were not "
        "working then, choose their last job.",
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my answers are stored for equality monitoring and counted, "
            "without my name, in reports for this network's organisers and the platform's staff."
        ),
        error_messages={
            "required": "Tick the box to agree to how your answers are used, or "
            "leave this page without saving."
        },
    )

    @property
    def ethnic_group_sections(self) -> list[tuple[str, list[Any]]]:
        """The ethnic group radios in their census sections (the last, alone: prefer not
        to say), so the page can show each section as a group of its own."""
        radios = list(self["ethnic_group"])
        sections: list[tuple[str, list[Any]]] = []
        for title, groups in ETHNIC_GROUP_SECTIONS:
            sections.append((title, radios[: len(groups)]))
            radios = radios[len(groups) :]
        return [*sections, ("", radios)]


@login_required
def equality_mine(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    answers = equality_answers_get(member=member)
    initial = (
        {name: getattr(answers, name) for name in EqualityForm.base_fields if name != "consent"}
        if answers
        else {}
    )
    form = EqualityForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            equality_answers_save(actor=member, **form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(request, _("Your equality answers are saved. Thank you."))
            return redirect("equality-mine")
    return render(request, "insights/equality_mine.html", {"form": form, "answers": answers})


@require_POST
@login_required
def equality_withdraw(request: HttpRequest) -> HttpResponse:
    if equality_answers_withdraw(actor=acting_member(request)):
        messages.success(request, _("Your equality answers are deleted."))
    return redirect("equality-mine")


@permission_required(REPORT_PERMISSION, raise_exception=True)
def equality_report_page(request: HttpRequest) -> HttpResponse:
    report = equality_report(actor=acting_member(request))
    return render(request, "insights/equality_report.html", {"report": report})


@permission_required(REPORT_PERMISSION, raise_exception=True)
def equality_report_download(request: HttpRequest) -> HttpResponse:
    data = equality_report_export(actor=acting_member(request), network=network_current())
    return csv_download(data, filename="equality-report.csv")

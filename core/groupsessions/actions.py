"""The moves a member can make on a session, by name, each with the form that checks its
input. Pages and the API both go through `session_act`, so they accept the same input and
give the same refusals; the services decide whether the move is allowed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.listings.models import Listing
from core.members.models import Member
from kernel.forms import Action, NoInput, OptionalReason

from . import services
from .models import MAX_CAPACITY, MAX_MINUTES, MINUTES_STEP, Booking, Format, GroupSession
from .services import MOVES, SessionRefused, move_allowed

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]


class SessionForm(forms.Form):
    """A session's details, for posting and for changing it."""

    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("What it covers (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    category = forms.ChoiceField(label=_("Category"), choices=Listing.Category.choices)
    format = forms.ChoiceField(label=_("Format"), choices=Format.choices)
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        input_formats=DATETIME_FORMATS,
        help_text=_("If your browser shows a plain text box, type it like 2027-03-14 14:30."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    minutes = forms.IntegerField(
        label=_("Length in minutes"),
        min_value=MINUTES_STEP,
        max_value=MAX_MINUTES,
        step_size=MINUTES_STEP,
        initial=60,
        help_text=_("In steps of 15 minutes: 90 is an hour and a half."),
    )
    capacity = forms.IntegerField(
        label=_("Places"),
        min_value=1,
        max_value=MAX_CAPACITY,
        initial=12,
        help_text=_("When it is full, members can join the waiting list."),
    )
    place = forms.CharField(label=_("Where (in person)"), required=False, max_length=300)
    video_link = forms.CharField(
        label=_("Video-call link (online)"),
        required=False,
        max_length=500,
        help_text=_("A full https:// address. It goes in the calendar invite."),
        widget=forms.URLInput(attrs={"inputmode": "url"}),
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class MarkForm(forms.Form):
    """Who attended: member ids of booked members (none ticked: nobody came)."""

    present = forms.TypedMultipleChoiceField(
        label=_("Who attended"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, session: GroupSession | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[int, str]] = []
        if session is not None:
            choices = [
                (b.member_id, b.member.full_name)
                for b in session.bookings.filter(state="booked").select_related("member")
            ]
        cast(forms.TypedMultipleChoiceField, self.fields["present"]).choices = choices


class SettleForm(forms.Form):
    booking = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        widget=forms.RadioSelect,
        choices=[
            ("confirm", _("They attended: they pay their share")),
            ("waive", _("They attended: no charge")),
            ("absent", _("They did not attend")),
        ],
    )
    note = forms.CharField(
        label=_("Note for the record"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


def _settle(data: Mapping[str, Any], *, actor: Member, session: GroupSession) -> Booking:
    booking = Booking.objects.filter(pk=data["booking"], session=session).first()
    if booking is None:
        raise SessionRefused(gettext("No such booking on this session."), field="booking")
    return services.attendance_settle(
        actor=actor, booking=booking, outcome=data["outcome"], note=data["note"]
    )


ACTIONS: dict[str, Action] = {
    "book": Action(
        NoInput,
        lambda **k: services.booking_create(**k),
        _("Done. Check your email for the calendar invite."),
    ),
    "unbook": Action(
        NoInput, lambda **k: services.booking_cancel(**k), _("Your booking is cancelled.")
    ),
    "edit": Action(
        SessionForm,
        lambda data, **k: services.session_update(**data, **k),
        _("The session is changed; everyone booked has the new invite."),
    ),
    "cancel": Action(
        OptionalReason,
        lambda data, **k: services.session_cancel(reason=data["reason"], **k),
        _("The session is cancelled. Nothing moved."),
    ),
    "mark": Action(
        MarkForm,
        lambda data, **k: services.attendance_mark(present=data["present"], **k),
        _("Attendance marked. Attendees are asked to confirm."),
    ),
    "confirm": Action(
        NoInput,
        lambda **k: services.attendance_confirm(**k),
        _("Thank you: your attendance is confirmed."),
    ),
    "dispute": Action(
        DisputeForm,
        lambda data, **k: services.attendance_dispute(reason=data["reason"], **k),
        _("An organiser will look at this and settle it."),
    ),
    "settle": Action(SettleForm, _settle, _("The attendance is settled.")),
}


def action_form(
    name: str, session: GroupSession, data: Mapping[str, Any] | None = None, **kwargs: Any
) -> forms.Form:
    form_class = ACTIONS[name].form
    if form_class is MarkForm:
        return MarkForm(data, session=session, **kwargs)
    return form_class(data, **kwargs)


def session_act(
    name: str, *, session: GroupSession, actor: Member, data: Mapping[str, Any]
) -> tuple[forms.Form, str]:
    """Check `data` with the action's form and run it. Returns the form (with errors when
    the input is invalid; nothing ran then) and the message for the member. Refusals from
    the service propagate as ApplicationError."""
    action = ACTIONS.get(name)
    if action is None:
        raise SessionRefused(gettext("Unknown action: %(name)s.") % {"name": name})
    form = action_form(name, session, data)
    if not form.is_valid():
        return form, ""
    return form, action.run_checked(form, actor=actor, session=session)


def allowed_actions(
    session: GroupSession, member: Member, booking: Booking | None, *, organiser: bool
) -> set[str]:
    """The moves to offer, by the services' own rules (`MOVES`); the services decide."""
    allowed = {move for move in MOVES if move_allowed(session, member, booking, move)}
    if organiser and session.bookings.filter(state="disputed").exists():
        allowed.add("settle")
    return allowed

"""The moves a member can make on an exchange, by name, each with the form that checks its
input. Pages and the API both go through `exchange_act`, so they accept the same input and
give the same refusals; the services decide whether the move is allowed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.members.models import Member
from kernel.forms import Action, NoInput, OptionalReason
from ledger.services import minutes_as_text
from tenants.models import Network

from . import services
from .models import MAX_MINUTES, MINUTES_STEP, Exchange, Proposal, State
from .services import MOVES, Side, move_allowed

if TYPE_CHECKING:
    from .selectors import Thread


def minutes_field(label: str, **kwargs: Any) -> forms.IntegerField:
    """Time in minutes, typed or stepped with the arrow keys 15 minutes at a time (a list of
    every quarter hour up to 12 hours would be 48 options long)."""
    steps = f"in steps of {MINUTES_STEP}, up to {MAX_MINUTES} ({minutes_as_text(MAX_MINUTES)})"
    refusal = f"Enter minutes {steps}, for example 90 for an hour and a half."
    return forms.IntegerField(
        label=label,
        min_value=MINUTES_STEP,
        max_value=MAX_MINUTES,
        step_size=MINUTES_STEP,
        help_text=f"In minutes, {steps}: 90 is an hour and a half.",
        error_messages=dict.fromkeys(("invalid", "min_value", "max_value", "step_size"), refusal),
        **kwargs,
    )


class DisputeForm(forms.Form):
    reason = forms.CharField(
        label=_("What is wrong with the hours?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProposeForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=_("Date and time"),
        help_text=_("If your browser shows a plain text box, type it like 2027-03-14 14:30."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=[
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S",
        ],
    )
    place = forms.CharField(
        label=_("Where"), max_length=300, help_text=_("An address or room, or “Video call”.")
    )
    video_link = forms.CharField(
        label=_("Video-call link (optional)"),
        required=False,
        max_length=500,
        help_text=_(
            "A full https:// address, for example https://meet.example.org/abc-defg. "
            "It goes in the calendar invite."
        ),
        widget=forms.URLInput(attrs={"inputmode": "url"}),
    )


class AgreeForm(forms.Form):
    proposal = forms.IntegerField(widget=forms.HiddenInput)


class RecordForm(forms.Form):
    minutes = minutes_field("Time given", initial=60)
    # Only asked when no meeting was agreed here (the page leaves it out otherwise).
    met_on = forms.DateField(
        label=_("The day you met"),
        required=False,
        help_text=_(
            "Today or earlier. If your browser shows a plain text box, type it like 2027-03-14."
        ),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class ThanksForm(forms.Form):
    text = forms.CharField(
        label=_("Say thank you (shown on their profile)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SettleForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose an outcome: confirm, adjust or cancel."},
        choices=[
            ("confirm", "Confirm the recorded hours"),
            ("adjust", "Adjust the hours"),
            ("cancel", "Cancel: no credit moves"),
        ],
    )
    minutes = minutes_field("Adjusted time (if adjusting)", required=False)
    note = forms.CharField(
        label=_("Note for the record"),
        max_length=1000,
        error_messages={"required": "Write a note for the record."},
        widget=forms.Textarea(attrs={"rows": 2}),
    )


ACTIONS: dict[str, Action] = {
    "accept": Action(
        NoInput, lambda **k: services.exchange_accept(**k), "You accepted. Suggest a time to meet."
    ),
    "decline": Action(
        OptionalReason,
        lambda data, **k: services.exchange_decline(reason=data["reason"], **k),
        "You declined this response.",
    ),
    "propose": Action(
        ProposeForm,
        lambda data, **k: services.exchange_propose(
            starts_at=data["starts_at"], place=data["place"], video_link=data["video_link"], **k
        ),
        "Your suggestion is sent.",
    ),
    "agree": Action(
        AgreeForm,
        lambda data, **k: services.exchange_agree(proposal_id=data["proposal"], **k),
        "The meeting is arranged.",
    ),
    "record": Action(
        RecordForm,
        lambda data, **k: services.exchange_record_hours(
            minutes=data["minutes"], met_on=data["met_on"], **k
        ),
        "Hours recorded. We have asked for confirmation.",
    ),
    "confirm": Action(
        NoInput,
        lambda **k: services.exchange_confirm(**k),
        "Hours confirmed and the credit has moved. Thank you!",
    ),
    "dispute": Action(
        DisputeForm,
        lambda data, **k: services.exchange_dispute(reason=data["reason"], **k),
        "An organiser will look at this and settle it.",
    ),
    "cancel": Action(
        OptionalReason,
        lambda data, **k: services.exchange_cancel(reason=data["reason"], **k),
        "The exchange is cancelled. No credit moved.",
    ),
    "message": Action(
        MessageForm,
        lambda data, **k: services.message_post(body=data["body"], **k),
        "Message sent.",
    ),
    "thanks": Action(
        ThanksForm,
        lambda data, **k: services.thanks_give(text=data["text"], **k),
        "Thank you sent.",
    ),
}


def _settle(
    data: Mapping[str, Any], *, actor: Member, exchange: Exchange, actor_network: Network | None
) -> Exchange:
    if actor_network is not None:
        raise services.ExchangeRefused("Only this network's organisers settle its disputes.")
    return services.exchange_settle(
        actor=actor,
        exchange=exchange,
        outcome=data["outcome"],
        minutes=data["minutes"],
        note=data["note"],
    )


ACTIONS["settle"] = Action(SettleForm, _settle, "The dispute is settled.")


def exchange_act(
    name: str,
    *,
    exchange: Exchange,
    actor: Member,
    data: Mapping[str, Any],
    actor_network: Network | None = None,
) -> tuple[forms.Form, str]:
    """Check `data` with the action's form and run it. Returns the form (with errors when
    the input is invalid; nothing ran then) and the message for the member. Refusals from
    the service propagate as ApplicationError."""
    action = ACTIONS.get(name)
    if action is None:
        raise services.ExchangeRefused(f"Unknown action: {name}.")
    form = action.form(data)
    if not form.is_valid():
        return form, ""
    return form, action.run_checked(
        form, actor=actor, exchange=exchange, actor_network=actor_network
    )


# What a block between the two sides stops (the services refuse it too); the exchange
# can still be answered, finished or cancelled.
BLOCKED_ACTIONS = frozenset({"message", "propose", "thanks"})


def allowed_actions(
    exchange: Exchange, side: Side | None, thread: Thread, *, organiser: bool, blocked: bool
) -> set[str]:
    """The moves to offer on the page, by the services' own rules (`MOVES`); the services
    still decide. `thread`: the exchange's, as read for the page; `blocked`: one side
    blocked the other."""
    allowed: set[str] = set()
    if side is not None:
        allowed = {"message"} | {move for move in MOVES if move_allowed(exchange, side, move)}
        proposal = open_proposal(thread.proposals)
        if proposal is None or proposal.proposed_by == side:
            allowed.discard("agree")  # nothing of the other side's to agree to
        if "thanks" in allowed and any(t.side == side for t in thread.thanks):
            allowed.discard("thanks")
        if blocked:
            allowed -= BLOCKED_ACTIONS
    if organiser and exchange.state == State.DISPUTED:
        allowed |= {"settle", "message"}
    return allowed


def open_proposal(proposals: Iterable[Proposal]) -> Proposal | None:
    return next((p for p in proposals if p.status == Proposal.Status.OPEN), None)

"""Form refusals: a service's `ApplicationError` shown on the page form that asked for it;
and named moves (an exchange's, a group session's), each checked by its form."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from kernel.errors import ApplicationError


def refusal_show(
    form: forms.BaseForm, refused: ApplicationError, *, fields: Mapping[str, str] | None = None
) -> None:
    """Show `refused` on the form field it names, or above the form when the form has no
    such field. `fields` maps a service's field name to the form's where they differ
    (`{"skills_wanted": "other_skills"}`). Each row a refusal lists in `extra["rows"]` (the
    problem rows of an uploaded file) is shown under its message."""
    field = (fields or {}).get(refused.field or "", refused.field)
    for message in [refused.message, *refused.extra.get("rows", [])]:
        form.add_error(field if field in form.fields else None, message)


class NoInput(forms.Form):
    """The form of a move that takes no input."""


class OptionalReason(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@dataclass(frozen=True)
class Action:
    """A move a member makes by name, from a page or the API: the form that checks its
    input, the service call that makes it, and what the member is told afterwards (text,
    or lazily translated text)."""

    form: type[forms.Form]
    run: Callable[..., Any]
    done: Any

    def run_checked(self, form: forms.Form, **kwargs: Any) -> str:
        """Make the move with `form`'s checked input (the form is valid) and `kwargs` (the
        actor and what they act on); returns the message for the member."""
        if self.form is NoInput:
            self.run(**kwargs)
        else:
            self.run(form.cleaned_data, **kwargs)
        return str(self.done)

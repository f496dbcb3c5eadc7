"""Form refusals: a service's `ApplicationError` shown on the page form that asked for it."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms

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

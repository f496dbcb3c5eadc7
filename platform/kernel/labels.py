"""The `label` template filter, a built-in of every template (settings TEMPLATES):
`{{ listing|label:"kind" }}` shows the label of the choice a field holds, as
`listing.get_kind_display` does, in the active language.

Django's `get_FOO_display` hashes every label of the field's choices on each call, which
translates each of them: a page of twenty listings made some 600 translation lookups for
the three or four labels it shows per listing. This looks the value up among the choices
by key and translates only the label it finds."""

from __future__ import annotations

from django import template
from django.db.models import Field, Model

register = template.Library()


@register.filter
def label(instance: Model | None, field_name: str) -> str:
    """The label of the choice `instance`'s field holds, or the value itself when it is
    not one of the choices (an empty value, say), as `get_FOO_display` returns; nothing
    for no object (a relation not set), as a template shows a missing attribute."""
    if not isinstance(instance, Model):
        return ""
    field = instance._meta.get_field(field_name)
    if not isinstance(field, Field):
        raise TypeError(f"{field_name} is a relation, not a field with choices")
    value = getattr(instance, field.attname)
    for key, text in field.flatchoices:
        if key == value:
            return str(text)
    return "" if value is None else str(value)

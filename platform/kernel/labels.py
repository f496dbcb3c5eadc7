"""Choices in templates, built-ins of every template (settings TEMPLATES).

The `label` filter: `{{ listing|label:"kind" }}` shows the label of the choice a field
holds, as `listing.get_kind_display` does, in the active language.

Django's `get_FOO_display` hashes every label of the field's choices on each call, which
translates each of them: a page of twenty listings made some 600 translation lookups for
the three or four labels it shows per listing. This looks the value up among the choices
by key and translates only the label it finds.

The `choice_options` tag: `{% choice_options kinds params.kind %}` writes a select's
`<option>`s, one a choice, the one whose value is the second argument selected. The loop
it replaces (`{% for v, l in kinds %}<option value="{{ v }}"{% if ... %} selected{% endif
%}>{{ l }}</option>{% endfor %}`) cost the listings page 1 ms of CPU for its four
selects' 24 options, more than reading its search's matches."""

from __future__ import annotations

import html
from collections.abc import Iterable

from django import template
from django.db.models import Field, Model
from django.utils.safestring import SafeData, SafeString

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


@register.simple_tag
def choice_options(choices: Iterable[tuple[object, object]], selected: object) -> SafeString:
    """An `<option>` for each (value, label) of `choices`, escaped, the one whose value
    equals `selected` marked selected."""
    return SafeString(
        "".join(
            f'<option value="{escaped(value)}"{" selected" if value == selected else ""}>'
            f"{escaped(text)}</option>"
            for value, text in choices
        )
    )


def escaped(value: object) -> str:
    """`conditional_escape(value)`: what is marked safe as it is, anything else escaped.
    Written out, as Django's checks every argument of every call for a lazy string, which
    was half of what a page's selects cost."""
    text = str(value)
    return text if isinstance(text, SafeData) else html.escape(text)

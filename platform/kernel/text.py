"""Text members type: stored without markup, refused in words they understand.

One policy everywhere: text that carries markup is refused (the member sees what will
show, and nothing is silently changed); text that is markup alone counts as empty where
the field is required, so its "missing" message answers it. Only text no member typed
here (an identity provider's claims) has its markup stripped instead (`markup_strip`)."""

from __future__ import annotations

from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError


def markup_strip(value: object) -> str:
    """`value` with its markup removed and without surrounding space: for text there is no
    one to refuse (an identity provider's claims), and to tell whether text carries
    markup (`markup_strip(text) != text`)."""
    return strip_tags("" if value is None else str(value)).strip()


def markup_refuse(
    value: object, *, name: str, refusal: type[ApplicationError], required: bool
) -> str:
    """`value` without surrounding space; refused (`refusal` on the field `name`) when it
    carries markup. Markup alone comes back empty when the field is `required`, so that
    the caller's "missing" message answers it."""
    text = ("" if value is None else str(value)).strip()
    plain = markup_strip(text)
    if plain != text and (plain or not required):
        raise refusal(_("Write plain text: HTML and scripts are not allowed."), field=name)
    return plain


def plain_text(
    value: object, *, name: str, limit: int, missing: str | None, refusal: type[ApplicationError]
) -> str:
    """`value` without surrounding space. Refused (`refusal` on the field `name`) when it
    carries markup (`markup_refuse`); when empty, with the `missing` message, unless
    `missing` is None; or when longer than `limit` characters."""
    text = markup_refuse(value, name=name, refusal=refusal, required=missing is not None)
    if missing is not None and not text:
        raise refusal(missing, field=name)
    if len(text) > limit:
        raise refusal(
            f"The {name} is {len(text):,} characters long; the limit is {limit:,}.", field=name
        )
    return text

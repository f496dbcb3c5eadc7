"""Text members type: stored without markup, refused in words they understand."""

from __future__ import annotations

from django.utils.html import strip_tags

from kernel.errors import ApplicationError


def plain_text(
    value: object, *, name: str, limit: int, missing: str | None, refusal: type[ApplicationError]
) -> str:
    """`value` without markup or surrounding space. Refused (`refusal` on the field `name`)
    when empty, with the `missing` message, unless `missing` is None; or when longer than
    `limit` characters."""
    text = strip_tags("" if value is None else str(value)).strip()
    if missing is not None and not text:
        raise refusal(missing, field=name)
    if len(text) > limit:
        raise refusal(
            f"The {name} is {len(text):,} characters long; the limit is {limit:,}.", field=name
        )
    return text

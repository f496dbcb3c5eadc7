from django import template

from ledger.services import minutes_as_text

register = template.Library()


@register.filter
def minutes(value: int) -> str:
    """`150|minutes` -> `2 hours 30 minutes`."""
    return minutes_as_text(int(value))


@register.filter
def minutes_abs(value: int) -> str:
    return minutes_as_text(abs(int(value)))

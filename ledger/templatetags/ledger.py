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


@register.filter
def hours(value: int) -> str:
    """Minutes as decimal hours for tables, to the minute's hundredth of an hour and no
    further: `495|hours` -> `8.25`, `510|hours` -> `8.5`, `480|hours` -> `8`."""
    return f"{int(value) / 60:.2f}".rstrip("0").rstrip(".")

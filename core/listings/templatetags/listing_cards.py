"""`{% listing_card listing hide_names %}`: a listing's card in a list of them, as the
listings page shows its results and suggestions.

Written in Python, not as a template included for each listing: the listings page shows 25
cards, and a card's six fields (a link, three labels and a translated sentence holding two
of them) took the template engine 0.15 ms each, a quarter of the page's CPU.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from core.listings.models import Listing
from kernel.labels import escaped, label

register = template.Library()


@register.simple_tag
def listing_card(listing: Listing, hide_names: bool = False) -> SafeString:
    """The card: what kind of listing, its title linked to it, its category, format and
    length, and who posted it (unless `hide_names`: the public page shows no names)."""
    details = gettext(
        "%(category_display)s · %(format_display)s · about %(duration_minutes)s minutes"
    ) % {
        "category_display": escaped(label(listing, "category")),
        "format_display": escaped(label(listing, "format")),
        "duration_minutes": listing.duration_minutes,
    }
    owner = "" if hide_names else f" · {escaped(listing.owner.full_name)}"
    url = reverse("listing-detail", args=[listing.pk])
    return SafeString(
        f'<li class="card">\n  <p class="tag">{escaped(label(listing, "kind"))}</p>\n'
        f'  <h3><a href="{url}">{escaped(listing.title)}</a></h3>\n'
        f"  <p>{details}{owner}</p>\n</li>\n"
    )

"""The `label` filter shows what `get_FOO_display` showed (kernel.labels)."""

from __future__ import annotations

from django.template import Context, Template
from django.utils import translation

from core.listings.models import Listing
from core.members.models import Member


def _render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def test_a_choice_shows_its_label_in_the_active_language() -> None:
    listing = Listing(kind="offer", category="teaching", format="video")
    source = '{{ l|label:"kind" }} · {{ l|label:"category" }} · {{ l|label:"format" }}'
    assert _render(source, l=listing) == (
        f"{listing.get_kind_display()} · {listing.get_category_display()} · "
        f"{listing.get_format_display()}"
    )
    with translation.override("cy"):
        welsh = _render('{{ l|label:"kind" }}', l=listing)
        assert welsh == listing.get_kind_display() != "Offer"


def test_a_value_outside_the_choices_and_no_object() -> None:
    assert _render('[{{ m|label:"profession" }}]', m=Member(profession="")) == "[]"
    assert _render('[{{ m|label:"profession"|default:"Not given" }}]', m=Member()) == (
        "[Not given]"
    )
    assert _render('[{{ nothing|label:"kind" }}]', nothing=None) == "[]"

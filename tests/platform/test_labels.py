"""The `label` filter shows what `get_FOO_display` showed, and `choice_options` writes
the options a loop of them wrote (kernel.labels)."""

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


LOOP = (
    '{% for v, l in choices %}<option value="{{ v }}"{% if selected == v %} selected'
    "{% endif %}>{{ l }}</option>{% endfor %}"
)


def test_options_are_those_the_loop_wrote_escaped_and_translated() -> None:
    choices = [*Listing.Kind.choices, ('"><script>', "<b>Fish & chips</b>")]
    for selected in ("request", "", '"><script>', "none of them"):
        ours = _render("{% choice_options choices selected %}", choices=choices, selected=selected)
        assert ours == _render(LOOP, choices=choices, selected=selected)
    assert ours.count("<option") == 3
    assert "<script>" not in ours and "&lt;b&gt;Fish &amp; chips" in ours
    picked = _render("{% choice_options choices selected %}", choices=choices, selected="offer")
    assert picked.startswith('<option value="offer" selected>Offer of help</option>')
    with translation.override("cy"):
        welsh = _render("{% choice_options choices 'offer' %}", choices=Listing.Kind.choices)
        assert welsh == _render(LOOP, choices=Listing.Kind.choices, selected="offer")
        assert "Offer of help" not in welsh
    assert _render("{% choice_options missing selected %}", missing=[], selected="x") == ""

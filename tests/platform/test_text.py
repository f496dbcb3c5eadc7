"""One policy for text members type (kernel.text): markup is refused, never silently
stripped; markup alone in a required field is answered as missing."""

import pytest

from kernel.errors import ApplicationError
from kernel.text import markup_refuse, markup_strip, plain_text


class Refused(ApplicationError):
    pass


@pytest.mark.parametrize("missing", [None, "Say something."])
def test_markup_is_refused_not_stripped(missing: str | None) -> None:
    with pytest.raises(Refused, match="Write plain text") as refused:
        plain_text("Hi <b>there</b>", name="bio", limit=100, missing=missing, refusal=Refused)
    assert refused.value.field == "bio"


def test_markup_alone_is_missing_where_required_and_refused_where_optional() -> None:
    with pytest.raises(Refused, match="Say something"):
        plain_text(" <b></b> ", name="title", limit=100, missing="Say something.", refusal=Refused)
    with pytest.raises(Refused, match="Write plain text"):
        plain_text("<img src=x>", name="bio", limit=100, missing=None, refusal=Refused)
    assert markup_refuse(" <b></b> ", name="reason", refusal=Refused, required=True) == ""


def test_plain_text_passes_trimmed_and_only_claims_are_stripped() -> None:
    text = "  Tom & Jerry: 2 < 3  "
    assert plain_text(text, name="t", limit=100, missing=None, refusal=Refused) == text.strip()
    assert markup_strip("<b>Sam</b> Smith ") == "Sam Smith"
    with pytest.raises(Refused, match="6 characters long; the limit is 5"):
        plain_text("abcdef", name="t", limit=5, missing=None, refusal=Refused)

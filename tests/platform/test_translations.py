"""Every word a person reads is marked for translation, and Welsh has every one of them.

The templates are read with Django's own template lexer: a TEXT token is what reaches the
page as written; tags, variables and comments are not. Within the text, HTML tags are
skipped, except the attributes a person hears or reads (alt, title, aria-label,
placeholder). What remains must not contain letters outside {% blocktranslate %}, except
the few words of ALLOWED (names that are the same in every language).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.template.base import DebugLexer, TokenType

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(
    path
    for folder in ("core", "ledger", "tenants", "theming", "platform")
    for pattern in ("**/templates/**/*.html", "**/templates/**/*.txt")
    for path in (REPO / folder).glob(pattern)
)
# Names and symbols that are the same in Welsh and English.
ALLOWED = {
    "Hexitime",
    "Cymraeg",
    "English",
    "NHS",
    "CPD",
    "QI",
    "API",
    "OpenAPI",
    "CSV",
    "PDF",
    "ICS",
    "iCal",
    "Stripe",
    "WCAG",
    "AA",
    "SVG",
    "PNG",
    "KB",
    "MB",
    "GB",
    "https",
    "e.g",
}
SPOKEN_ATTRIBUTES = {"alt", "title", "aria-label", "aria-description", "placeholder"}
RAW_ELEMENTS = {"script", "style"}
BLOCK_START = re.compile(r"^(blocktranslate|blocktrans|comment|verbatim)\b")
BLOCK_END = re.compile(r"^(endblocktranslate|endblocktrans|endcomment|endverbatim)\b")
ENTITY = re.compile(r"&#?\w+;")
LETTER = re.compile(r"[^\W\d_]")
WORD = re.compile(r"[^\W\d_][\w.'\u2019-]*")


@dataclass
class Run:
    """A stretch of a template's text that reaches a reader."""

    start: int
    end: int
    text: str
    attribute: str | None  # None: the text of an element


def text_runs(source: str) -> Iterator[Run]:
    """The readable runs of a template, with their positions in it: element text and
    spoken attributes, outside {% blocktranslate %}, {% comment %} and <script>/<style>."""
    state, quote, tag, attribute, raw = "text", "", "", None, None
    depth = 0
    for token in DebugLexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            if BLOCK_START.match(token.contents):
                depth += 1
            elif BLOCK_END.match(token.contents):
                depth -= 1
            continue
        if token.token_type != TokenType.TEXT or depth:
            continue
        assert token.position is not None  # DebugLexer records where each token is
        offset = token.position[0]
        text, start = token.contents, None
        for index, char in enumerate(text):
            readable = (state == "text" and raw is None) or (state == "value" and attribute)
            if readable and start is None:
                start = index
            if state == "text":
                if char == "<":
                    if start is not None and index > start:
                        yield Run(offset + start, offset + index, text[start:index], None)
                    start, state, tag = None, "tag", ""
                continue
            if state == "tag":
                tag += char
                if char in "\"'":
                    name = re.search(r"([\w-]+)\s*=\s*$", tag[:-1])
                    key = name.group(1).lower() if name else ""
                    attribute = key if key in SPOKEN_ATTRIBUTES else None
                    state, quote = "value", char
                elif char == ">":
                    element = re.match(r"(/?)([a-zA-Z]+)", tag)
                    if element and element.group(2).lower() in RAW_ELEMENTS:
                        raw = None if element.group(1) else element.group(2).lower()
                    state = "text"
                continue
            if state == "value" and char == quote:
                if attribute and start is not None and index > start:
                    yield Run(offset + start, offset + index, text[start:index], attribute)
                start, state, attribute = None, "tag", None
                tag += char
        open_run = (state == "text" and raw is None) or (state == "value" and attribute)
        if start is not None and open_run and len(text) > start:
            yield Run(offset + start, offset + len(text), text[start:], attribute)


def unmarked(run: Run) -> bool:
    words = [word.strip(".'\u2019-") for word in WORD.findall(ENTITY.sub(" ", run.text))]
    return any(LETTER.search(word) and word not in ALLOWED for word in words)


def test_the_scanner_finds_text_and_spoken_attributes_only() -> None:
    source = (
        '{% load i18n %}<a href="/x" class="brand" title="Go home">Home</a>'
        '{% translate "Marked" %}<img alt="{% translate \'Logo\' %}" src="a.png">'
        "{% blocktranslate %}Inside {{ x }}{% endblocktranslate %}{# note #}"
        "<script>var a = 'code';</script>{% comment %}Not shown{% endcomment %}"
        "<p>Hexitime \u2013 {{ count }} CPD</p><p>Signed in as {{ name }}</p>"
    )
    found = [run.text.strip() for run in text_runs(source) if unmarked(run)]
    assert found == ["Go home", "Home", "Signed in as"]


# Words handed to an included template as a plain string (`with label="Accept"`), which
# reach the page as they are: they must be `_("Accept")`.
INCLUDED_TEXT = re.compile(r'\b(label|caption|period|title|heading|hint|legend)="([^"]*)"')


def unmarked_arguments(source: str) -> Iterator[str]:
    for token in DebugLexer(source).tokenize():
        if token.token_type == TokenType.BLOCK and token.contents.startswith("include "):
            for name, value in INCLUDED_TEXT.findall(token.contents):
                if unmarked(Run(0, 0, value, name)):
                    yield f"{name}={value!r}"


def test_the_argument_check_finds_plain_strings_only() -> None:
    source = (
        '{% include "a.html" with name="confirm" label="Accept" %}'
        '{% include "b.html" with label=_("Decline") caption="Hexitime" %}'
    )
    assert list(unmarked_arguments(source)) == ["label='Accept'"]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_word_in_a_template_is_marked_for_translation(template: Path) -> None:
    source = template.read_text()
    found = [
        f"line {source.count(chr(10), 0, run.start) + 1}: {run.text.strip()!r}"
        + (f" ({run.attribute})" if run.attribute else "")
        for run in text_runs(source)
        if unmarked(run)
    ] + [f"{{% include %}} argument {argument}" for argument in unmarked_arguments(source)]
    assert not found, "Mark these for translation ({% translate %}):\n" + "\n".join(found)


def catalogue(language: str, domain: str = "django") -> polib.POFile:
    path = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / f"{domain}.po"
    return polib.pofile(str(path))


# Every page's and email's templates: members', organisers', the public site's and the staff
# console's. (Strings marked in Python, such as form labels, are not yet all translated.)
TRANSLATED_IN_FULL = ("core/", "ledger/", "theming/", "platform/", "tenants/")


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES if code != "en-gb"])
def test_every_string_of_the_member_and_organiser_pages_is_translated(language: str) -> None:
    missing = [
        entry.msgid
        for entry in catalogue(language)
        if not entry.obsolete
        and any(
            path.startswith(TRANSLATED_IN_FULL) and "/templates/" in path
            for path, _ in entry.occurrences
        )
        and (entry.fuzzy or not (entry.msgstr or all(entry.msgstr_plural.values())))
    ]
    assert not missing, f"No {language} translation yet for:\n" + "\n".join(missing)


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES if code != "en-gb"])
def test_translations_keep_their_placeholders(language: str) -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]|\{\w*\}|%[sd]")
    wrong = [
        entry.msgid
        for domain in ("django", "djangojs")
        for entry in catalogue(language, domain)
        if entry.msgstr
        and sorted(placeholder.findall(entry.msgid)) != sorted(placeholder.findall(entry.msgstr))
    ]
    assert not wrong, "The placeholders differ from the English in:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES if code != "en-gb"])
def test_every_javascript_string_is_translated(language: str) -> None:
    scripts = catalogue(language, "djangojs")
    missing = [e.msgid for e in scripts if not (e.msgstr or all(e.msgstr_plural.values()))]
    assert len(scripts) > 0
    assert not missing, f"No {language} translation yet for:\n" + "\n".join(missing)

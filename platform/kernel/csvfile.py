"""The one CSV writer for everything the project serves or exports.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or a
carriage return) as a formula, so a member named `=HYPERLINK(...)` would arrive in an
organiser's spreadsheet as a live link (CSV injection, OWASP). Every text cell that starts
with one of those characters is written with a leading apostrophe, which spreadsheets show
as text and do not display. Numbers stay numbers: a negative amount is not text a member
typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Generic, Protocol, TypeVar

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_Written = TypeVar("_Written", covariant=True)  # what the file's `write` returns


class _Writable(Protocol[_Written]):
    def write(self, value: str, /) -> _Written: ...


def csv_cell(value: object) -> object:
    """`value` as it may safely stand in a CSV cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvWriter(Generic[_Written]):
    """`csv.writer` with every cell passed through `csv_cell`; `writerow` returns what
    the underlying file's `write` returned (the line itself for a streamed response)."""

    def __init__(self, file: _Writable[_Written]) -> None:
        self._writer = csv.writer(file)

    def writerow(self, row: Iterable[object]) -> _Written:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(rows: Iterable[Iterable[object]]) -> str:
    """`rows` (the header first) as CSV text."""
    out = io.StringIO()
    CsvWriter(out).writerows(rows)
    return out.getvalue()


class _Echo:
    def write(self, value: str, /) -> str:
        return value


def _lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    writer = CsvWriter(_Echo())
    for row in rows:
        yield writer.writerow(row)


def csv_download(text: str, *, filename: str) -> HttpResponse:
    """A CSV download of `text` (from `csv_text`)."""
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_stream(rows: Iterable[Iterable[object]], *, filename: str) -> StreamingHttpResponse:
    """A CSV download written a row at a time as `rows` yields them (the header first)."""
    response = StreamingHttpResponse(_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

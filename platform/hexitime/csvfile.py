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
from typing import Any, Protocol

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def csv_cell(value: object) -> object:
    """`value` as it may safely stand in a CSV cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvWriter:
    """`csv.writer` with every cell passed through `csv_cell`; `writerow` returns what
    the underlying file's `write` returned (the line itself for a streamed response)."""

    def __init__(self, file: _Writable) -> None:
        self._writer = csv.writer(file)

    def writerow(self, row: Iterable[object]) -> Any:
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


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """`rows` as CSV, one line at a time, for a streamed response."""
    writer = CsvWriter(_Echo())
    for row in rows:
        yield writer.writerow(row)


def csv_attachment(
    body: str | Iterator[str], *, filename: str
) -> HttpResponse | StreamingHttpResponse:
    """A CSV download: `body` is the whole text, or lines from `csv_lines` to stream."""
    response: HttpResponse | StreamingHttpResponse
    if isinstance(body, str):
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

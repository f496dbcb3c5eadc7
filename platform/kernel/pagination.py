"""Pages of a queryset read in one query: the rows and how many there are in all.

Django's `Paginator` counts first (`SELECT COUNT(*)`) and then reads the page: two round
trips. `CountingPaginator` reads the page with the count beside each row, a scalar
subquery (`(SELECT count(*) FROM (...))`) that PostgreSQL computes once, and takes the
total from the first row. The count reads only the matches' ids, so the rows the page
shows are read and sorted for the page alone. (A `COUNT(*) OVER ()` window had done it
first: it keeps every match whole until the last is counted, which took a broad search's
page from 3 to 7 ms.) It counts apart only when the page it was asked for is empty (past
the end, or nothing matched beyond the first page), to say how many pages there are.
Rows read by SQL written once are paged the same way: an object with `rows_counted(offset,
limit)` (`CountedRows`; listing search returns one) is asked for a page and its total in
one call. Every page of the site and of the API is one of these
(`kernel.api.PageNumberPagination`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import IntegerField, QuerySet, Subquery
from django.db.models.query import ModelIterable

TOTAL = "paginated_total"  # the annotation each row of a page carries
OFFSET_MAX = 2**63 - 1  # PostgreSQL's OFFSET and LIMIT are bigints


class _Count(Subquery):
    """How many rows a queryset has, as a scalar subquery."""

    template = "(SELECT count(*) FROM (%(subquery)s) AS counted)"
    output_field = IntegerField()


@runtime_checkable
class CountedRows(Protocol):
    """Rows that read a page of themselves with their total in one statement."""

    def rows_counted(self, offset: int, limit: int) -> tuple[list[Any], int]:
        """At most `limit` rows from `offset` on, and how many there are in all."""
        ...


class CountingPaginator(Paginator):  # type: ignore[type-arg]  # generic only in the stubs
    """Django's Paginator (same pages, same errors), reading a queryset's total, or
    `CountedRows`', with the page's rows. Anything else it pages as Django does: lists,
    `values()` querysets, DISTINCT and UNION ones (whose rows a total beside them would
    change or that cannot carry it), and orphans."""

    def page(self, number: int | str) -> Page[Any]:
        read = self._counted_reader()
        if read is None or "count" in self.__dict__:
            return super().page(number)
        try:  # as Django reads a page number
            wanted = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if wanted < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (wanted - 1) * self.per_page
        if bottom + self.per_page > OFFSET_MAX:
            return super().page(wanted)  # no such page: counted, and refused as Django does
        rows, self.count = read(bottom, self.per_page)
        self.validate_number(wanted)  # EmptyPage past the end, as Django says it
        return Page(rows, wanted, self)

    def get_page(self, number: int | float | str | None) -> Page[Any]:
        try:
            return self.page(number)  # type: ignore[arg-type]  # any other: PageNotAnInteger
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(self.num_pages)

    def _counted_reader(self) -> Callable[[int, int], tuple[list[Any], int]] | None:
        """How to read a page of what is being paged with its total, when there is one."""
        rows = self.object_list
        if self.orphans:  # where a page ends hangs on the total: Django's way
            return None
        if isinstance(rows, CountedRows):
            return rows.rows_counted
        if not isinstance(rows, QuerySet):
            return None
        query = rows.query
        plain = not (query.distinct or query.combinator or query.is_sliced)
        if not plain or rows._iterable_class is not ModelIterable:
            return None
        return functools.partial(_queryset_counted, rows)


def _queryset_counted(queryset: QuerySet[Any], offset: int, limit: int) -> tuple[list[Any], int]:
    """A page of a queryset, each row carrying the total; counted apart when it is empty."""
    totalled = queryset.annotate(**{TOTAL: _Count(queryset.order_by().values("pk"))})
    rows = list(totalled[offset : offset + limit])
    if rows:
        return rows, getattr(rows[0], TOTAL)
    return rows, 0 if offset == 0 else queryset.count()

"""The impact dashboard: charts (Chart.js) over tables, each table also as CSV."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from core.insights.selectors.impact import TABLES, Table, impact_table
from core.insights.selectors.map import DateRange
from core.stories.selectors import stories_published
from kernel.csvfile import csv_download, csv_text

from .map import DateRangeForm


def _chart(table: Table) -> dict[str, Any]:
    """What impact.js needs to draw a table: labels and datasets taken from its columns."""
    labels = [row[0] for row in table.rows]

    def column(i: int) -> list[Any]:
        return [row[i] for row in table.rows]

    # `counts`: every axis counts people or things (whole-number ticks); hours need not.
    if table.name in ("hours", "members"):
        count, cumulative = (2, 3) if table.name == "hours" else (1, 2)
        return {
            "type": "bar",
            "labels": labels,
            "counts": table.name == "members",
            "datasets": [
                {"label": table.columns[count].capitalize(), "data": column(count)},
                {
                    "label": table.columns[cumulative].capitalize(),
                    "data": column(cumulative),
                    "type": "line",
                    "yAxisID": "cumulative",
                },
            ],
        }
    if table.name == "campaigns":
        return {
            "type": "bar",
            "labels": labels,
            "horizontal": True,
            "datasets": [
                {"label": table.columns[5].capitalize(), "data": column(5)},
                {"label": table.columns[6].capitalize(), "data": column(6)},
            ],
        }
    if table.name == "skills":
        return {
            "type": "bar",
            "labels": labels,
            "horizontal": True,
            "counts": True,
            "datasets": [
                {"label": "Offers", "data": column(1)},
                {"label": "Requests", "data": column(2)},
            ],
        }
    return {
        "type": "bar",
        "labels": labels,
        "horizontal": True,
        "counts": True,
        "datasets": [{"label": "Exchanges", "data": column(1)}],
    }


def _dates(request: HttpRequest) -> tuple[DateRangeForm, DateRange | None]:
    form = DateRangeForm(request.GET or None)
    return form, form.date_range() if request.GET else DateRange()


@login_required
def impact(request: HttpRequest) -> HttpResponse:
    form, dates = _dates(request)
    query = request.GET.urlencode()
    sections = []
    if dates is not None:
        for name in TABLES:
            table = impact_table(name, dates=dates)
            csv_url = reverse("insights-impact-csv", args=[name]) + (f"?{query}" if query else "")
            sections.append({"table": table, "chart": _chart(table), "csv_url": csv_url})
    return render(
        request,
        "insights/impact.html",
        {
            "form": form,
            "sections": sections,
            "stories": stories_published(place="impact"),
        },
    )


@login_required
def impact_csv(request: HttpRequest, name: str) -> HttpResponse:
    if name not in TABLES:
        raise Http404("No such table")
    form, dates = _dates(request)
    if dates is None:
        errors = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    table = impact_table(name, dates=dates)
    return csv_download(csv_text([table.columns, *table.rows]), filename=f"hexitime-{name}.csv")

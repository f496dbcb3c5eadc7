"""Pages: the network map (every member) and the network metrics (organisers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.insights.selectors.map import (
    DateRange,
    DateRangeInvalid,
    MapGroupUnknown,
    name_shown,
    network_map_stored,
)
from core.insights.selectors.metrics import network_metrics_cached
from core.insights.services.map import network_map_request
from core.insights.services.metrics import network_metrics_request
from core.members.auth import acting_member
from core.members.models import Member
from kernel.db import connection
from kernel.forms import refusal_show


class DateRangeForm(forms.Form):
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Exchanges completed on or after this day."),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Up to and including this day."),
    )

    def date_range(self) -> DateRange | None:
        """The range asked for, or None with the form's errors set."""
        if not self.is_valid():
            return None
        try:
            return DateRange(self.cleaned_data["start"], self.cleaned_data["end"])
        except DateRangeInvalid as refused:
            refusal_show(self, refused)
            return None


@login_required
def network_map(request: HttpRequest) -> HttpResponse:
    """The map (drawn by cytoscape.js from the JSON API) and the same data as tables, which
    is all there is without JavaScript. Both as the metrics task stored them (services.map);
    "being prepared" until it has."""
    form = DateRangeForm(request.GET or None)
    dates = form.date_range() if request.GET else DateRange()
    group = request.GET.get("group", "")[:80]
    context: dict[str, Any] = {"form": form, "query": request.GET.urlencode(), "group": group}
    if dates is not None:
        try:
            stored = network_map_stored(
                dates=dates,
                group=group,
                viewer=acting_member(request),
                fields=("table_html", "summary"),
            )
        except MapGroupUnknown as refused:
            raise Http404(refused.message) from refused
        context.update(preparing=stored is None, stored=stored)
        if stored is None:
            network_map_request(connection.schema_name, dates=dates)
        else:
            context.update(stored["summary"], tables=mark_safe(stored["table_html"]))  # noqa: S308 - rendered (escaped) by the task
    return render(request, "insights/map.html", context)


@permission_required("insights.view_network_metrics", raise_exception=True)
def network_metrics(request: HttpRequest) -> HttpResponse:
    """The cached metrics, or "computing" while the worker computes them. POST asks for a
    fresh computation."""
    schema = connection.schema_name
    if request.method == "POST":
        network_metrics_request(schema, force=True)
        messages.success(request, _("The metrics are being recomputed. Refresh in a moment."))
        return redirect("insights-metrics")
    metrics = network_metrics_cached(schema)
    if metrics is None:
        network_metrics_request(schema)
        return render(request, "insights/metrics.html", {"metrics": None})
    viewer = acting_member(request)
    ids = [broker["member_id"] for broker in metrics["brokers"]]
    members = Member.objects.filter(pk__in=ids).only(
        "full_name", "show_on_map", "profile_visibility"
    )
    shown = {m.pk: m for m in members if name_shown(viewer=viewer, member=m)}
    brokers = [
        {**broker, "member": shown.get(broker["member_id"])} for broker in metrics["brokers"]
    ]
    return render(
        request,
        "insights/metrics.html",
        {
            "metrics": metrics,
            "brokers": brokers,
            "computed_at": datetime.fromisoformat(metrics["computed_at"]),
        },
    )

"""The impact dashboard's tables: one selector each, a few queries each, plain rows.

Exchanges and volunteering are counted as the map and the metrics count them, from the
same edges (`selectors.edges.network_edges`, definitions in `graph`): an exchange is a completed
exchange, also one our member had on a partner network's listing; confirmed project
hours are volunteering, shown apart and never as exchanges.

Months are calendar months in the network's time zone. Within a date range the
cumulative figures start at the range's first month.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.campaigns.models import Campaign
from core.campaigns.selectors import campaigns_with_hours
from core.insights.graph import Edge, EdgeKind
from core.listings.models import Listing
from core.members.models import Member, MemberState

from .edges import network_edges
from .map import DateRange


@dataclass(frozen=True, slots=True)
class Table:
    """A chart's data as a table: its CSV is exactly these rows."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _exchanges(dates: DateRange) -> list[Edge]:
    return [edge for edge in network_edges(dates=dates) if edge.kind == EdgeKind.EXCHANGE]


def hours_by_month(*, dates: DateRange) -> Table:
    zone = timezone.get_current_timezone()
    months: dict[str, list[int]] = {}  # month -> [exchanges, minutes, minutes volunteered]
    for edge in network_edges(dates=dates):
        when = edge.when.astimezone(zone)
        month = months.setdefault(f"{when.year}-{when.month:02d}", [0, 0, 0])
        if edge.kind == EdgeKind.PROJECT:
            month[2] += edge.minutes
        else:
            month[0] += 1
            month[1] += edge.minutes
    total = 0
    out = []
    for name in sorted(months):
        exchanges, minutes, volunteered = months[name]
        total += minutes
        out.append((name, exchanges, _hours(minutes), _hours(total), _hours(volunteered)))
    return Table(
        "hours",
        "Hours exchanged per month",
        ("month", "exchanges", "hours", "cumulative hours", "volunteering hours"),
        out,
    )


def members_joined_by_month(*, dates: DateRange) -> Table:
    start, end = dates.bounds()
    members = Member.objects.filter(is_staff=False, state=MemberState.ACTIVE)
    if start:
        members = members.filter(date_joined__gte=start)
    if end:
        members = members.filter(date_joined__lt=end)
    rows = (
        members.annotate(month=TruncMonth("date_joined"))
        .values("month")
        .annotate(joined=Count("pk"))
        .order_by("month")
    )
    total = 0
    out = []
    for row in rows:
        total += row["joined"]
        out.append((row["month"].strftime("%Y-%m"), row["joined"], total))
    return Table("members", "Members joined per month", ("month", "joined", "cumulative"), out)


def exchanges_by(field: str, *, dates: DateRange) -> Table:
    """Completed exchanges by their listing's category or format, most first."""
    choices = {"category": Listing.Category, "format": Listing.Format}[field]
    labels = dict(choices.choices)
    counts: Counter[str] = Counter()
    minutes: Counter[str] = Counter()
    for edge in _exchanges(dates):
        value = edge.category if field == "category" else edge.format
        counts[value] += 1
        minutes[value] += edge.minutes
    ordered = sorted(counts, key=lambda value: (-counts[value], value))
    out = [(labels.get(value, value), counts[value], _hours(minutes[value])) for value in ordered]
    title = {"category": "Exchanges by category", "format": "Exchanges by format"}[field]
    name = {"category": "categories", "format": "formats"}[field]
    return Table(name, title, (field, "exchanges", "hours"), out)


def _skill_key(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold()


def skills_gap() -> Table:
    """Per category: open offers and open requests (visible ones), and members whose
    profile lists that skill; the gap is requests less offers, largest first. Two queries."""
    listings = (
        Listing.objects.filter(status=Listing.Status.OPEN, hidden_reason="")
        .values("category")
        .annotate(
            offers=Count("pk", filter=Q(kind=Listing.Kind.OFFER)),
            requests=Count("pk", filter=Q(kind=Listing.Kind.REQUEST)),
        )
    )
    counts = {row["category"]: (row["offers"], row["requests"]) for row in listings}
    skilled: Counter[str] = Counter()
    for skills in Member.objects.filter(is_staff=False, state=MemberState.ACTIVE).values_list(
        "skills", flat=True
    ):
        skilled.update({_skill_key(skill) for skill in skills})
    with translation.override(None):  # skills are written in English, as the categories are
        english = {value: str(label) for value, label in Listing.Category.choices}
    rows = []
    for value, label in Listing.Category.choices:
        offers, requests = counts.get(value, (0, 0))
        members = skilled[_skill_key(english[value])] or skilled[_skill_key(value)]
        if offers or requests or members:
            rows.append((label, offers, requests, members, requests - offers))
    rows.sort(key=lambda row: (-row[4], -row[2], row[0]))
    columns = ("skill", "offers", "requests", "members with the skill", "gap")
    return Table("skills", "Skills offered and requested", columns, rows)


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def hours_by_campaign(*, dates: DateRange) -> Table:
    """Each campaign running at some time in the range, with the hours counted toward it
    (within its own dates: core.campaigns.selectors) and its target. One query."""
    campaigns = Campaign.objects.all()
    if dates.start:
        campaigns = campaigns.filter(ends_on__gte=dates.start)
    if dates.end:
        campaigns = campaigns.filter(starts_on__lte=dates.end)
    found = (
        campaigns_with_hours(campaigns)
        .order_by("starts_on", "title", "id")
        .values(  # type: ignore[misc]  # the plugin does not see the annotations
            "title",
            "starts_on",
            "ends_on",
            "target_minutes",
            "exchange_minutes",
            "session_minutes",
            "project_minutes",
        )
    )
    rows = [
        (
            c["title"],
            f"{c['starts_on']:%-d %b %Y} to {c['ends_on']:%-d %b %Y}",
            _hours(c["exchange_minutes"]),
            _hours(c["session_minutes"]),
            _hours(c["project_minutes"]),
            _hours(c["exchange_minutes"] + c["session_minutes"] + c["project_minutes"]),
            _hours(c["target_minutes"]),
        )
        for c in found
    ]
    return Table(
        "campaigns",
        _("Hours per campaign"),
        (
            _("campaign"),
            _("dates"),
            _("exchange hours"),
            _("group session hours"),
            _("project hours"),
            _("hours counted"),
            _("target hours"),
        ),
        rows,
    )


TABLES = ("hours", "members", "categories", "formats", "skills", "campaigns")


def impact_table(name: str, *, dates: DateRange) -> Table:
    """One table by name (one of `TABLES`); KeyError for any other name."""
    if name == "hours":
        return hours_by_month(dates=dates)
    if name == "members":
        return members_joined_by_month(dates=dates)
    if name in ("categories", "formats"):
        return exchanges_by("category" if name == "categories" else "format", dates=dates)
    if name == "skills":
        return skills_gap()
    if name == "campaigns":
        return hours_by_campaign(dates=dates)
    raise KeyError(name)

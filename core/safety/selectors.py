"""Reading reports: the organisers' queue and a member's own reports."""

from __future__ import annotations

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from core.members.models import Member
from kernel.errors import PermissionDenied

from .models import Report, Status

PERMISSION = "safety.moderate_report"


def report_queue(*, actor: Member, handled: bool = False) -> QuerySet[Report]:
    """The organisers' queue: open reports, oldest first (or, `handled`, those dealt with,
    latest first), each with `open_on_target`: how many open reports there are on the
    same target. One query whatever the number of reports. Refused (PermissionDenied,
    403) to anyone whose role lacks `safety.moderate_report`."""
    _organiser_require(actor)
    return _queue(handled=handled)


def _organiser_require(actor: Member) -> None:
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("Only organisers can act on reports."))


def _queue(*, handled: bool) -> QuerySet[Report]:
    same_target = (
        Report.objects.filter(
            target_kind=OuterRef("target_kind"),
            target_id=OuterRef("target_id"),
            status=Status.OPEN,
        )
        .order_by()
        .values("target_kind")
        .annotate(n=Count("pk"))
        .values("n")
    )
    reports = Report.objects.select_related("reporter", "subject", "handled_by").annotate(
        open_on_target=Coalesce(Subquery(same_target, output_field=IntegerField()), 0)
    )
    if handled:
        return reports.exclude(status=Status.OPEN).order_by("-handled_at", "-pk")
    return reports.filter(status=Status.OPEN).order_by("created_at", "pk")


def reports_visible(*, member: Member, handled: bool = False) -> QuerySet[Report]:
    """What `member` may list: the queue for organisers; for anyone else, only the
    reports they made themselves (never another member's)."""
    reports = _queue(handled=handled)
    if member.has_perm(PERMISSION):
        return reports
    return reports.filter(reporter=member)


def reports_on_target(report: Report, *, actor: Member) -> QuerySet[Report]:
    """Every report on the same target as `report`, oldest first, for the organiser
    acting on it. Refused (PermissionDenied, 403) to anyone else, the reporter included:
    they may see their report, not act on it."""
    _organiser_require(actor)
    return (
        Report.objects.filter(target_kind=report.target_kind, target_id=report.target_id)
        .select_related("reporter")
        .order_by("created_at", "pk")
    )


def open_report_count() -> int:
    return Report.objects.filter(status=Status.OPEN).count()

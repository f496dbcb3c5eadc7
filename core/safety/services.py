"""Members report what worries them; organisers act on the reports.

A member reports only what they can see (the `access_*` fetches decide, so a report of
something hidden from them, or of another network's, is simply not found). Reporting the
same thing again while the first report is open folds into it (a unique constraint), and
a member has at most `OPEN_REPORTS_MAX` open reports, so one member cannot flood the
queue. The reporter is told in the app that the report was received; the organisers are
notified (the notification row is the email's outbox).

An organiser acts on a report by hiding the listing or the message, warning the member,
suspending them (`member_deactivate`, with the report as the reason) or dismissing it.
The action closes every open report on the same target, in one transaction with the
action itself; each report closed is audited with its state before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.exchanges.models import Exchange, Message
from core.exchanges.services import access_exchange, message_hide_step, side_of
from core.listings.models import Listing
from core.listings.services import access_listing, listing_hide_step
from core.members.models import Member, MemberState
from core.members.selectors import members_with_permission
from core.members.services import access_member, member_deactivate_step, member_require_joined
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import durable_service
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import plain_text
from tenants.selectors import network_current

from .models import DETAILS_MAX, Category, Outcome, Report, Status, TargetKind
from .selectors import PERMISSION

OPEN_REPORTS_MAX = 10  # open reports one member may have at a time


class ReportRefused(ApplicationError):
    pass


@dataclass(frozen=True)
class Target:
    """What a report is about, as the reporter may see it."""

    subject: Member | None
    summary: str
    url: str


def report_target(kind: str, target_id: int, *, member: Member) -> Target:
    """The thing `member` wants to report, or NotFound for anything they cannot see (an
    id of another network's is no id here)."""
    if kind == TargetKind.LISTING:
        listing = access_listing(target_id, member=member)
        return Target(listing.owner, listing.title, f"/listings/{listing.pk}/")
    if kind == TargetKind.PROFILE:
        found = access_member(target_id, member=member)
        return Target(found, found.full_name, f"/members/{found.pk}/")
    if kind == TargetKind.EXCHANGE:
        exchange = access_exchange(target_id, member=member)
        return Target(
            _other_side(exchange, member), str(exchange.listing.title), f"/exchanges/{exchange.pk}/"
        )
    if kind == TargetKind.MESSAGE:
        message = Message.objects.filter(pk=target_id).first()
        if message is None:
            raise NotFound("No such message.")
        exchange = access_exchange(message.exchange_id, member=member)
        author = {"giver": exchange.giver, "receiver": exchange.receiver}.get(message.side)
        summary = f"{message.author_name}: {message.body}"[:300]
        return Target(author, summary, f"/exchanges/{exchange.pk}/")
    raise NotFound("No such thing to report.")


def _other_side(exchange: Exchange, member: Member) -> Member | None:
    """The member on the other side from `member` (None for a partner network's member,
    or when `member` is an organiser looking at a dispute, on neither side)."""
    side = side_of(exchange, member)
    if side is None:
        return None
    return exchange.receiver if side == "giver" else exchange.giver


@durable_service
def report_create(
    *, actor: Member, target_kind: str, target_id: int, category: str, details: str = ""
) -> Report:
    """`actor` reports a listing, message, profile or exchange they can see, choosing a
    reason and saying more if they wish. Returns the report; a second report of the same
    thing while the first is open returns the first (folded: nobody is notified again).
    The reporter is told in the app that it was received, and the organisers are
    notified. Refused (nothing written) for a reason not in the list, one's own things,
    or more than `OPEN_REPORTS_MAX` open reports."""
    member_require_joined(actor, before="reporting")
    if category not in Category.values:
        raise ReportRefused(_("Choose the reason that fits best."), field="category")
    details = plain_text(
        details, name="details", limit=DETAILS_MAX, missing=None, refusal=ReportRefused
    )
    target = report_target(target_kind, target_id, member=actor)
    if target.subject is not None and target.subject.pk == actor.pk:
        raise ReportRefused(_("You cannot report yourself or your own things."))
    # The reporter's row is the lock that counts their open reports one at a time.
    Member.objects.select_for_update().filter(pk=actor.pk).first()
    open_reports = Report.objects.filter(reporter=actor, status=Status.OPEN)
    existing = open_reports.filter(target_kind=target_kind, target_id=target_id).first()
    if existing is not None:
        return existing
    if open_reports.count() >= OPEN_REPORTS_MAX:
        raise ReportRefused(
            _(
                "You have %(count)d reports waiting for the organisers. They will look at "
                "those first; if something is urgent, contact the safeguarding contact shown on "
                "your exchange pages."
            )
            % {"count": OPEN_REPORTS_MAX}
        )
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter=actor,
                target_kind=target_kind,
                target_id=target_id,
                subject=target.subject,
                target_summary=target.summary,
                category=category,
                details=details,
            )
    except IntegrityError:  # the same report from another request of theirs just now
        return open_reports.get(target_kind=target_kind, target_id=target_id)
    _tell_reporter_received(report)
    _tell_organisers(report)
    return report


def _tell_reporter_received(report: Report) -> None:
    notification_send(
        recipient=report.reporter,
        kind=Kind.REPORT,
        key=f"report:{report.pk}:received",
        title=_("We received your report"),
        body=_(
            "Thank you for telling us. The organisers of %(network)s will look at your "
            "report about “%(summary)s”. Nobody else is told who reported it."
        )
        % {"network": network_current().name, "summary": report.target_summary[:100]},
    )


def _tell_organisers(report: Report) -> None:
    for organiser in members_with_permission(PERMISSION):
        if organiser.pk == report.reporter_id:
            continue
        notification_send(
            recipient=organiser,
            kind=Kind.REPORT_FILED,
            key=f"report:{report.pk}:filed:{organiser.pk}",
            title=_("A member reported a %(kind)s: %(category)s")
            % {
                "kind": report.get_target_kind_display().lower(),
                "category": report.get_category_display().lower(),
            },
            body=report.target_summary,
            url=f"/safety/reports/{report.pk}/",
        )


def access_report(report_id: int, *, member: Member) -> Report:
    """A report an organiser may act on, or one the member made; anything else (another
    member's report, another network's) is not found."""
    report = (
        Report.objects.select_related("reporter", "subject", "handled_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None or not (member.has_perm(PERMISSION) or report.reporter_id == member.pk):
        raise NotFound("No such report.")
    return report


def report_outcomes(report: Report) -> list[Outcome]:
    """What an organiser may do about this report, by what it is about."""
    outcomes = []
    if report.target_kind == TargetKind.LISTING:
        outcomes.append(Outcome.HIDE_LISTING)
    if report.target_kind == TargetKind.MESSAGE:
        outcomes.append(Outcome.HIDE_MESSAGE)
    if report.subject is not None and report.subject.state != MemberState.CLOSED:
        outcomes.append(Outcome.WARN)
        if report.subject.state == MemberState.ACTIVE:
            outcomes.append(Outcome.SUSPEND)
    outcomes.append(Outcome.DISMISS)
    return outcomes


@durable_service
def report_act(*, actor: Member, report: Report, outcome: str, note: str) -> Report:
    """An organiser acts on an open report: hides the listing or message, warns the member
    (a notification to them with the note), suspends them (deactivation, the report as
    the reason) or dismisses it; the note says why and stays in the record. Every open
    report on the same target closes with it; each is audited (before and after), and
    each reporter is told it was looked at (not what was done). Refused when the report
    is no longer open or the outcome does not fit it."""
    if not actor.has_perm(PERMISSION):
        raise PermissionDenied(_("Only organisers can act on reports."))
    note = plain_text(
        note,
        name="note",
        limit=500,
        refusal=ReportRefused,
        missing=_("Write a note for the record: what you did and why."),
    )
    # Every open report on the target, locked in id order: two organisers acting at once
    # queue here, and the second finds the report handled.
    current = Report.objects.filter(pk=report.pk).first()
    if current is None:
        raise NotFound("No such report.")
    same = list(
        Report.objects.select_for_update(of=("self",))
        .filter(target_kind=current.target_kind, target_id=current.target_id, status=Status.OPEN)
        .select_related("subject", "reporter")
        .order_by("pk")
    )
    report = next((r for r in same if r.pk == current.pk), current)
    if report.status != Status.OPEN:
        raise ReportRefused(_("This report has been dealt with already."), state=report.status)
    if outcome not in {choice.value for choice in report_outcomes(report)}:
        raise ReportRefused(
            _("Choose one of the actions offered for this report."), field="outcome"
        )
    _carry_out(actor, report, outcome, note)
    now = timezone.now()
    status = Status.DISMISSED if outcome == Outcome.DISMISS else Status.ACTIONED
    for closing in same:
        closing.status, closing.outcome, closing.outcome_note = status, outcome, note
        closing.handled_by, closing.handled_at = actor, now
        closing.save(
            update_fields=["status", "outcome", "outcome_note", "handled_by", "handled_at"]
        )
        audit_record(
            actor=actor,
            verb=f"report.{outcome}",
            target=closing,
            before={"status": Status.OPEN},
            after={"status": status, "outcome": outcome},
            reason=note,
        )
        notification_send(
            recipient=closing.reporter,
            kind=Kind.REPORT,
            key=f"report:{closing.pk}:handled",
            title=_("The organisers looked at your report"),
            body=_(
                "Thank you again for your report about “%(summary)s”. The organisers "
                "have looked at it and dealt with it."
            )
            % {"summary": closing.target_summary[:100]},
        )
    return report


def _carry_out(actor: Member, report: Report, outcome: str, note: str) -> None:
    if outcome == Outcome.HIDE_LISTING:
        listing = Listing.objects.get(pk=report.target_id)
        listing_hide_step(actor=actor, listing=listing, reason=note)
    elif outcome == Outcome.HIDE_MESSAGE:
        message = Message.objects.get(pk=report.target_id)
        message_hide_step(actor=actor, message=message, reason=note)
    elif outcome == Outcome.WARN and report.subject is not None:
        audit_record(
            actor=actor,
            verb="member.warn",
            target=report.subject,
            reason=note,
            after={"report": report.pk},
        )
        notification_send(
            recipient=report.subject,
            kind=Kind.WARNING,
            key=f"report:{report.pk}:warning",
            title=_("A warning from the organisers of %(network)s")
            % {"network": network_current().name},
            body=note,
        )
    elif outcome == Outcome.SUSPEND and report.subject is not None:
        reason = f"Report {report.pk} ({report.get_category_display()}): {note}"[:500]
        member_deactivate_step(actor=actor, member=report.subject, reason=reason)

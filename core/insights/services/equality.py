"""Equality monitoring, the writing side: a member's own answers (saved with consent,
withdrawn, erased with their account), the month's snapshot that every report of the month
is published from, and the organisers' audited CSV export. What is counted and published
is decided in `selectors.equality`.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.insights.models import EqualityAnswers, EqualitySnapshot
from core.insights.selectors.equality import (
    QUESTIONS,
    equality_report,
    equality_report_csv,
    equality_snapshot_current,
)
from core.members.models import Member
from kernel.db import durable_service
from kernel.errors import ApplicationError
from tenants.models import Network


class EqualityRefused(ApplicationError):
    pass


@durable_service
def equality_answers_save(*, actor: Member, consent: bool, **answers: str) -> EqualityAnswers:
    """Save the acting member's answers (theirs only: there is no member argument).

    Refused without consent, with a question unanswered ("Prefer not to say" is an
    answer) or an answer that is not one of the choices; nothing is written then. Not
    audited: the network's audit log is read by organisers, and even "answered the
    equality questions" is not theirs to know.
    """
    if consent is not True:
        raise EqualityRefused(
            _(
                "Tick the box to agree to how your answers are used, or leave this page without "
                "saving."
            ),
            field="consent",
        )
    unknown = set(answers) - set(QUESTIONS)
    if unknown:
        raise EqualityRefused(
            _("Unknown question: %(questions)s.") % {"questions": ", ".join(sorted(unknown))}
        )
    for name, choices in QUESTIONS.items():
        if answers.get(name) not in choices.values:
            raise EqualityRefused(_("Choose an answer, or “Prefer not to say”."), field=name)
    saved, _created = EqualityAnswers.objects.update_or_create(
        member=actor, defaults={**answers, "consented_at": timezone.now()}
    )
    return saved


@durable_service
def equality_answers_withdraw(*, actor: Member) -> bool:
    """Delete the acting member's answers; whether there were any. From then on they are
    counted as "not answered", like anyone who never answered."""
    return equality_answers_erase(member=actor)


def equality_answers_erase(*, member: Member) -> bool:
    """Delete the member's answers inside the caller's transaction (withdrawing them, or
    closing the account); whether there were any."""
    deleted, _by_model = EqualityAnswers.objects.filter(member=member).delete()
    return bool(deleted)


@durable_service
def equality_snapshot_take(*, now: datetime | None = None) -> EqualitySnapshot:
    """Take the current network's snapshot for this month, unless it exists (beat runs
    this on the 1st of each month, so the month's report does not wait for an organiser
    to open it). Idempotent."""
    return equality_snapshot_current(now=now or timezone.now())


@durable_service
def equality_report_export(*, actor: Member, network: Network) -> str:
    """The equality report as CSV for an organiser, recorded in the network's audit log
    (an export, which organisers account for)."""
    report = equality_report(actor=actor)
    audit_record(
        actor=actor,
        verb="insights.equality_export",
        target=network,
        after={"since": report.since.isoformat(), "until": report.until.isoformat()},
    )
    return equality_report_csv(report.tables)

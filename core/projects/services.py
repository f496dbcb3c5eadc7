"""Proposing, funding, declining and closing QI projects; volunteering and paying for hours.

Every movement of credit goes through the ledger with a key naming the project:
`project:<id>:fund` (issuance -> project), `project:<id>:confirmation:<confirmation id>`
(project -> volunteer) and `project:<id>:close` (unspent budget back to issuance). Each
service locks the project row first, so a confirmation and a close never overlap.
"""

from __future__ import annotations

import datetime

from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit.services import audit_record
from core.members.models import Member, MemberState
from core.members.selectors import members_with_permission
from core.members.services import JoinRefused, member_require_joined, skills_clean
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import connection, durable_service
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.tasks import task_send_on_commit
from kernel.text import markup_refuse, plain_text
from ledger.models import Transfer
from ledger.services import (
    InsufficientCredit,
    Leg,
    issuance_account,
    member_account,
    minutes_as_text,
    project_account,
    transfer_create,
)

from .models import BUDGET_MAX_MINUTES, STEP_MINUTES, HoursConfirmation, Project, Volunteer

TEXT_LIMITS = {"title": 120, "aim": 300, "description": 5000}


class ProjectRefused(ApplicationError):
    pass


# What a project's text asks for when it is left empty, by its field name.
_MISSING = {
    "title": gettext_lazy("Please give the project a title."),
    "aim": gettext_lazy("Please give the project an aim."),
    "description": gettext_lazy("Please give the project a description."),
}


def _text(name: str, value: object) -> str:
    return plain_text(
        value or "",
        name=name,
        limit=TEXT_LIMITS[name],
        missing=str(_MISSING[name]),
        refusal=ProjectRefused,
    )


def _dates(starts_on: object, ends_on: object) -> tuple[datetime.date, datetime.date]:
    """Both dates, or a refusal asking for them (whatever a caller passed)."""
    if not isinstance(starts_on, datetime.date) or not isinstance(ends_on, datetime.date):
        raise ProjectRefused(_("Give the dates the project starts and ends."), field="starts_on")
    return starts_on, ends_on


def _minutes(value: object, *, field: str, what: str, most: int) -> int:
    """Whole minutes in 15-minute steps from 15 up to `most`, or a refusal saying so."""
    if isinstance(value, bool) or not isinstance(value, int) or value % STEP_MINUTES:
        raise ProjectRefused(
            _("%(what)s must be in whole or quarter hours.") % {"what": what}, field=field
        )
    if not STEP_MINUTES <= value <= most:
        raise ProjectRefused(
            _("%(what)s must be between 15 minutes and %(most)s.")
            % {"what": what, "most": minutes_as_text(most)},
            field=field,
        )
    return value


def project_propose_require(*, actor: Member) -> None:
    """Refuse (PermissionDenied) unless the actor's role may propose projects: QI leads
    and organisers (ROLE_PERMISSIONS). `project_propose` checks it; so does the proposal
    page before showing its form."""
    if not actor.has_perm("projects.propose_project"):
        raise PermissionDenied(_("Only QI leads and organisers can propose projects."))


def project_decline_require(*, actor: Member) -> None:
    """Refuse unless the actor's role may decline (fund) projects: organisers. Checked by
    `project_decline` and by the page before showing its form."""
    if not actor.has_perm("projects.fund_project"):
        raise PermissionDenied(_("Only organisers can decline projects."))


def volunteer_confirm_require(*, actor: Member, project: Project) -> None:
    """Refuse unless the actor leads the project: only its lead confirms volunteers'
    hours. Checked by `volunteer_confirm_hours` and by the page before its form."""
    if project.lead_id != actor.pk:
        raise PermissionDenied(_("Only the project's lead can confirm volunteers' hours."))


@durable_service
def project_propose(
    *,
    actor: Member,
    title: str,
    aim: str,
    description: str,
    budget_minutes: int,
    starts_on: datetime.date,
    ends_on: datetime.date,
    skills_wanted: list[str] | None = None,
) -> Project:
    """A QI lead (or organiser) proposes a project. Nothing moves until an organiser
    funds it; the organisers (but the proposer) are told it waits for them. Markup in
    the text is stripped, not stored."""
    project_propose_require(actor=actor)
    texts = {"title": title, "aim": aim, "description": description}
    fields = {name: _text(name, value) for name, value in texts.items()}
    budget = _minutes(
        budget_minutes, field="budget_minutes", what=_("The hours budget"), most=BUDGET_MAX_MINUTES
    )
    starts_on, ends_on = _dates(starts_on, ends_on)
    if ends_on < starts_on:
        raise ProjectRefused(_("The project ends before it starts."), field="ends_on")
    try:
        skills = skills_clean(skills_wanted or [])
    except JoinRefused as refused:
        raise ProjectRefused(refused.message, field="skills_wanted") from None
    project = Project.objects.create(
        lead=actor,
        budget_minutes=budget,
        skills_wanted=skills,
        starts_on=starts_on,
        ends_on=ends_on,
        **fields,
    )
    for organiser in members_with_permission("projects.fund_project").exclude(pk=actor.pk):
        notification_send(
            recipient=organiser,
            kind=Kind.PROJECT_PROPOSED,
            key=f"project:{project.pk}:proposed:{organiser.pk}",
            title=f"{actor} proposed “{project.title}” for funding"[:200],
            body=f"{project.aim} Budget asked for: {minutes_as_text(budget)}.",
            url=f"/projects/{project.pk}/",
        )
    return project


def _locked(project: Project) -> Project:
    return Project.objects.select_for_update().select_related("lead").get(pk=project.pk)


def _refuse_unless(project: Project, state: Project.State, doing: str) -> None:
    if project.state != state:
        label = Project.State(project.state).label.lower()
        raise ProjectRefused(
            _("This project is %(label)s, so it cannot be %(doing)s.")
            % {"label": label, "doing": doing},
            field="state",
        )


@durable_service
def project_fund(*, actor: Member, project: Project) -> Project:
    """An organiser approves a proposed project and moves its whole budget from the
    network's issuance account to the project's account, in one transaction with the
    state change, an audit event and the lead's notification. Funding twice is refused,
    and the ledger key `project:<id>:fund` could not post twice anyway."""
    if not actor.has_perm("projects.fund_project"):
        raise PermissionDenied(_("Only organisers can approve and fund projects."))
    project = _locked(project)
    _refuse_unless(project, Project.State.PROPOSED, _("funded"))
    transfer_create(
        idempotency_key=f"project:{project.pk}:fund",
        legs=[
            Leg(issuance_account(), -project.budget_minutes),
            Leg(project_account(project.pk), project.budget_minutes),
        ],
        kind=Transfer.Kind.PROJECT_FUND,
        memo=f"Budget for the project “{project.title}”",
        actor=actor,
    )
    project.state, project.funded_at = Project.State.APPROVED, timezone.now()
    project.save(update_fields=["state", "funded_at"])
    audit_record(
        actor=actor,
        verb="project.fund",
        target=project,
        before={"state": Project.State.PROPOSED},
        after={"state": project.state, "budget_minutes": project.budget_minutes},
    )
    notification_send(
        recipient=project.lead,
        kind=Kind.PROJECT_FUNDED,
        key=f"project:{project.pk}:funded",
        title=f"Your project “{project.title}” is funded",
        body=f"{actor} approved it with a budget of {minutes_as_text(project.budget_minutes)}. "
        "Members can now volunteer.",
        url=f"/projects/{project.pk}/",
    )
    return project


@durable_service
def project_decline(*, actor: Member, project: Project, reason: str) -> Project:
    """An organiser declines a proposed project, saying why (audited; the lead is told)."""
    project_decline_require(actor=actor)
    reason = markup_refuse(reason, name="reason", refusal=ProjectRefused, required=True)
    if not reason:
        raise ProjectRefused(_("Please say why the project is declined."), field="reason")
    if len(reason) > 500:
        raise ProjectRefused(
            _("The reason is %(length)s characters long; the limit is 500.")
            % {"length": format(len(reason), ",")},
            field="reason",
        )
    project = _locked(project)
    _refuse_unless(project, Project.State.PROPOSED, _("declined"))
    project.state, project.declined_reason = Project.State.DECLINED, reason
    project.save(update_fields=["state", "declined_reason"])
    audit_record(
        actor=actor,
        verb="project.decline",
        target=project,
        before={"state": Project.State.PROPOSED},
        after={"state": project.state},
        reason=reason,
    )
    notification_send(
        recipient=project.lead,
        kind=Kind.PROJECT_DECLINED,
        key=f"project:{project.pk}:declined",
        title=f"Your project “{project.title}” was declined",
        body=reason,
        url=f"/projects/{project.pk}/",
    )
    return project


@durable_service
def volunteer_pledge(*, actor: Member, project: Project, pledged_minutes: int) -> Volunteer:
    """A member volunteers for a funded project, pledging some hours; pledging again
    changes the pledge. The lead is notified the first time only."""
    member_require_joined(actor, before=_("volunteering"))
    project = _locked(project)
    _refuse_unless(project, Project.State.APPROVED, _("volunteered for"))
    if project.lead_id == actor.pk:
        raise ProjectRefused(_("You lead this project, so you cannot volunteer for it."))
    if project.ends_on < timezone.localdate():
        raise ProjectRefused(
            _("This project ended on %(day)s.") % {"day": date_format(project.ends_on, "j F Y")}
        )
    minutes = _minutes(
        pledged_minutes,
        field="pledged_minutes",
        what=_("The hours you pledge"),
        most=project.budget_minutes,
    )
    volunteer = Volunteer.objects.filter(project=project, member=actor).first()
    if volunteer is not None:
        volunteer.pledged_minutes = minutes
        volunteer.save(update_fields=["pledged_minutes"])
        return volunteer
    volunteer = Volunteer.objects.create(project=project, member=actor, pledged_minutes=minutes)
    notification_send(
        recipient=project.lead,
        kind=Kind.PROJECT_VOLUNTEER,
        key=f"project:{project.pk}:volunteer:{actor.pk}",
        title=f"{actor} volunteered for “{project.title}”",
        body=f"{actor} pledged {minutes_as_text(minutes)}.",
        url=f"/projects/{project.pk}/",
    )
    return volunteer


@durable_service
def volunteer_confirm_hours(
    *,
    actor: Member,
    project: Project,
    volunteer: Volunteer,
    minutes: int,
    worked_on: datetime.date,
    key: str,
) -> HoursConfirmation:
    """The lead confirms the hours a volunteer gave on one day (from the project's start
    to today); the ledger pays them from the project's account at once. A volunteer's day
    is confirmed once: the same day and hours again (a double click, Back and resubmit, a
    retried request, two at the same moment) return the first confirmation and pay
    nothing more; other hours for that day are refused. `key` is the client's name for
    the request and cannot be reused for other hours. More than the remaining budget is
    refused and nothing is written."""
    volunteer_confirm_require(actor=actor, project=project)
    key = str(key or "").strip()
    if not key or len(key) > 64:
        raise ProjectRefused(_("This confirmation needs a key of 1 to 64 characters."), field="key")
    minutes = _minutes(
        minutes, field="minutes", what=_("The hours confirmed"), most=BUDGET_MAX_MINUTES
    )
    if not isinstance(worked_on, datetime.date):
        raise ProjectRefused(_("Give the day the hours were given."), field="worked_on")
    if worked_on > timezone.localdate():
        raise ProjectRefused(
            _("Confirm hours once they are given: the day cannot be in the future."),
            field="worked_on",
        )
    project = _locked(project)
    # After the lock, so a confirmation committed while we waited is seen here.
    earlier = HoursConfirmation.objects.filter(key=key).first()
    if earlier is not None:
        if (earlier.volunteer_id, earlier.minutes, earlier.worked_on) != (
            volunteer.pk,
            minutes,
            worked_on,
        ):
            raise ProjectRefused(
                _("This confirmation was already used for other hours."), field="key"
            )
        return earlier
    same_day = HoursConfirmation.objects.filter(
        volunteer_id=volunteer.pk, volunteer__project=project, worked_on=worked_on
    ).first()
    if same_day is not None:
        if same_day.minutes != minutes:
            raise ProjectRefused(
                _("You already confirmed %(minutes)s for %(day)s; nothing more was paid.")
                % {
                    "minutes": minutes_as_text(same_day.minutes),
                    "day": date_format(worked_on, "l j F Y"),
                },
                field="worked_on",
            )
        return same_day
    _refuse_unless(project, Project.State.APPROVED, _("paid from"))
    if worked_on < project.starts_on:
        start = project.starts_on
        raise ProjectRefused(
            _("The project starts on %(day)s: hours before then cannot be paid from it.")
            % {"day": date_format(start, "l j F Y")},
            field="worked_on",
        )
    paid = (
        Volunteer.objects.select_related("member").filter(pk=volunteer.pk, project=project).first()
    )
    if paid is None:
        raise NotFound(_("No such volunteer on this project."))
    if paid.member.state == MemberState.CLOSED:
        # Credit paid to a closed account could never be spent (docs/privacy.md).
        raise ProjectRefused(
            _("This volunteer has closed their account: their hours can no longer be paid.")
        )
    confirmation = HoursConfirmation.objects.create(
        volunteer=paid, key=key, minutes=minutes, worked_on=worked_on, confirmed_by=actor
    )
    try:
        transfer_create(
            idempotency_key=f"project:{project.pk}:confirmation:{confirmation.pk}",
            legs=[
                Leg(project_account(project.pk), -minutes),
                Leg(member_account(paid.member), minutes),
            ],
            kind=Transfer.Kind.PROJECT_CREDIT,
            memo=f"Volunteering for the project “{project.title}”",
            actor=actor,
        )
    except InsufficientCredit as refused:
        left = max(refused.extra["balance"] - refused.extra["floor"], 0)
        raise ProjectRefused(
            _(
                "The project has %(left)s of its budget left, so it cannot pay "
                "%(minutes)s. Confirm fewer hours."
            )
            % {"left": minutes_as_text(left), "minutes": minutes_as_text(minutes)},
            field="minutes",
            remaining_minutes=left,
        ) from None
    Volunteer.objects.filter(pk=paid.pk).update(confirmed_minutes=F("confirmed_minutes") + minutes)
    notification_send(
        recipient=paid.member,
        kind=Kind.HOURS_CONFIRMED,
        key=f"project:{project.pk}:confirmation:{confirmation.pk}",
        title=f"{minutes_as_text(minutes)} confirmed for “{project.title}”",
        body=f"{actor} confirmed your hours; {minutes_as_text(minutes)} of credit is in "
        "your account.",
        url=f"/projects/{project.pk}/",
    )
    task_send_on_commit(  # by name: insights sits above projects
        "core.insights.tasks.network_metrics_refresh", schema_name=connection.schema_name
    )
    return confirmation


@durable_service
def project_close(*, actor: Member, project: Project) -> Project:
    """The lead or an organiser closes a funded project: its unspent budget goes back to
    the issuance account in one transfer (`project:<id>:close`), and no more hours can be
    confirmed. Audited."""
    if project.lead_id != actor.pk and not actor.has_perm("projects.fund_project"):
        raise PermissionDenied(_("Only the project's lead or an organiser can close it."))
    project = _locked(project)
    _refuse_unless(project, Project.State.APPROVED, _("closed"))
    account = project_account(project.pk)
    # Confirmations lock the project row first, so the balance cannot change under us.
    account.refresh_from_db(fields=["balance"])
    unspent = account.balance
    if unspent:
        transfer_create(
            idempotency_key=f"project:{project.pk}:close",
            legs=[Leg(account, -unspent), Leg(issuance_account(), unspent)],
            kind=Transfer.Kind.PROJECT_FUND,
            memo=f"Unspent budget of the project “{project.title}” returned",
            actor=actor,
        )
    project.state, project.closed_at = Project.State.CLOSED, timezone.now()
    project.save(update_fields=["state", "closed_at"])
    audit_record(
        actor=actor,
        verb="project.close",
        target=project,
        before={"state": Project.State.APPROVED},
        after={"state": project.state, "returned_minutes": unspent},
    )
    return project

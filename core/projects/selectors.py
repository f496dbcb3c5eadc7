"""Reading projects: who may see which, and how far each has got."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.members.models import Member
from kernel.errors import NotFound
from ledger.models import Account

from .models import HoursConfirmation, Project, Volunteer

# Funded and finished projects are public in the network; a proposal (or a declined one)
# is seen only by its lead and by organisers.
PUBLIC_STATES = (Project.State.APPROVED, Project.State.CLOSED)


def _visible(member: Member) -> QuerySet[Project]:
    projects = Project.objects.all()
    if not member.has_perm("projects.fund_project"):
        projects = projects.filter(Q(state__in=PUBLIC_STATES) | Q(lead=member))
    return projects


def _with_progress(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Each project with its lead and, in the same query, the minutes pledged and
    confirmed, the number of volunteers and what is left in its ledger account."""
    balance = Account.objects.filter(kind=Account.Kind.PROJECT, owner_id=OuterRef("pk"))
    return projects.select_related("lead").annotate(
        pledged_total=Coalesce(Sum("volunteers__pledged_minutes"), Value(0)),
        confirmed_total=Coalesce(Sum("volunteers__confirmed_minutes"), Value(0)),
        volunteer_count=Count("volunteers"),
        account_balance=Coalesce(
            Subquery(balance.values("balance")[:1], output_field=IntegerField()), Value(0)
        ),
    )


def projects_awaiting_funding() -> QuerySet[Project]:
    """Proposals waiting for an organiser to fund or decline them (for organisers)."""
    return Project.objects.filter(state=Project.State.PROPOSED)


def project_list(*, member: Member, state: str = "") -> QuerySet[Project]:
    """The projects the member may see, newest first, with their progress (one query)."""
    projects = _visible(member)
    if state:
        projects = projects.filter(state=state)
    # Explicit: Django drops Meta.ordering from queries that aggregate.
    return _with_progress(projects).order_by("-created_at", "-id")


def access_project(project_id: int, *, member: Member) -> Project:
    """A project the member may see, with its progress. Anything else, like a project
    that does not exist, is simply not found."""
    project = _with_progress(_visible(member).filter(pk=project_id)).first()
    if project is None:
        raise NotFound("No such project.")
    return project


@dataclass(frozen=True)
class Progress:
    budget_minutes: int
    pledged_minutes: int
    confirmed_minutes: int
    remaining_minutes: int
    volunteers: int

    @property
    def percent_given(self) -> int:
        return round(100 * self.confirmed_minutes / self.budget_minutes)


def project_progress(*, project: Project) -> Progress:
    """Progress of a project fetched through `project_list` or `access_project`. The
    remaining budget is the project account's balance while the project is funded (the
    ledger's own figure), the whole budget while it is proposed, and nothing once it is
    declined or closed (a closed project's unspent budget went back to the network)."""
    remaining = {
        Project.State.PROPOSED: project.budget_minutes,
        Project.State.APPROVED: project.account_balance,  # type: ignore[attr-defined]
    }.get(Project.State(project.state), 0)
    return Progress(
        budget_minutes=project.budget_minutes,
        pledged_minutes=project.pledged_total,  # type: ignore[attr-defined]
        confirmed_minutes=project.confirmed_total,  # type: ignore[attr-defined]
        remaining_minutes=remaining,
        volunteers=project.volunteer_count,  # type: ignore[attr-defined]
    )


def project_volunteers(*, project: Project) -> QuerySet[Volunteer]:
    return Volunteer.objects.filter(project=project).select_related("member")


def access_volunteer(volunteer_id: int, *, project: Project) -> Volunteer:
    """One of the project's volunteers, or not found."""
    volunteer = project_volunteers(project=project).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFound("No such volunteer on this project.")
    return volunteer


def project_confirmations(*, project: Project) -> QuerySet[HoursConfirmation]:
    return (
        HoursConfirmation.objects.filter(volunteer__project=project)
        .select_related("volunteer__member")
        .order_by("-created_at", "-id")
    )

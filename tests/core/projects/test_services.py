"""Projects through their services: every transition, what the ledger moves, who may act."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import MemberState
from core.notifications.models import Kind, Notification
from core.projects.models import HoursConfirmation, Project, Volunteer
from core.projects.selectors import access_project, project_list, project_progress
from core.projects.services import (
    ProjectRefused,
    project_close,
    project_decline,
    project_fund,
    project_propose,
    volunteer_confirm_hours,
    volunteer_pledge,
)
from kernel.errors import NotFound, PermissionDenied
from ledger.models import Transfer
from ledger.selectors import member_balance
from ledger.services import issuance_account, project_account

from .conftest import FALLS, dates, worked

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from pytest_django import DjangoCaptureOnCommitCallbacks

    from core.members.models import Member
    from tenants.models import Network


def _balances(project: Project) -> tuple[int, int]:
    return issuance_account().balance, project_account(project.pk).balance


def test_fund_volunteer_confirm_close_moves_exactly_the_budget(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
) -> None:
    amara, ben = make_member(network_a), make_member(network_a)
    project = propose(budget_minutes=600)
    with tenant_context(network_a):
        assert project.state == Project.State.PROPOSED
        assert project.skills_wanted == ["run charts", "qi methods", "falls prevention"]
        issued_before, _ = _balances(project)

        project = project_fund(actor=organiser, project=project)
        assert project.state == Project.State.APPROVED and project.funded_at is not None
        assert _balances(project) == (issued_before - 600, 600)
        fund = Transfer.objects.get(idempotency_key=f"project:{project.pk}:fund")
        assert fund.kind == Transfer.Kind.PROJECT_FUND and fund.actor_id == organiser.pk
        event = AuditEvent.objects.get(verb="project.fund")
        assert (event.actor_id, event.target_id) == (organiser.pk, str(project.pk))
        assert event.after == {"state": "approved", "budget_minutes": 600}

        first = volunteer_pledge(actor=amara, project=project, pledged_minutes=180)
        volunteer_pledge(actor=ben, project=project, pledged_minutes=120)
        again = volunteer_pledge(actor=amara, project=project, pledged_minutes=240)
        assert again.pk == first.pk and again.pledged_minutes == 240

        ben_volunteer = Volunteer.objects.get(member=ben)
        volunteer_confirm_hours(
            actor=lead, project=project, volunteer=first, minutes=90, worked_on=worked(1), key="a1"
        )
        volunteer_confirm_hours(
            actor=lead, project=project, volunteer=first, minutes=45, worked_on=worked(2), key="a2"
        )
        volunteer_confirm_hours(
            actor=lead,
            project=project,
            volunteer=ben_volunteer,
            minutes=120,
            worked_on=worked(1),
            key="b1",
        )
        assert member_balance(member=amara) == 135
        assert member_balance(member=ben) == 120
        assert Volunteer.objects.get(pk=first.pk).confirmed_minutes == 135
        assert _balances(project) == (issued_before - 600, 600 - 255)
        confirmation = HoursConfirmation.objects.get(worked_on=worked(1), key="a1")
        paid = Transfer.objects.get(
            idempotency_key=f"project:{project.pk}:confirmation:{confirmation.pk}"
        )
        assert paid.kind == Transfer.Kind.PROJECT_CREDIT
        assert sorted(e.amount for e in paid.entries.all()) == [-90, 90]

        progress = project_progress(project=access_project(project.pk, member=amara))
        assert (progress.pledged_minutes, progress.confirmed_minutes) == (360, 255)
        assert (progress.remaining_minutes, progress.volunteers) == (345, 2)
        assert progress.percent_given == 42

        project = project_close(actor=lead, project=project)
        assert project.state == Project.State.CLOSED and project.closed_at is not None
        # The unspent 345 minutes went back: the network issued exactly what was given.
        assert _balances(project) == (issued_before - 255, 0)
        back = Transfer.objects.get(idempotency_key=f"project:{project.pk}:close")
        assert sorted(e.amount for e in back.entries.all()) == [-345, 345]
        assert AuditEvent.objects.get(verb="project.close").after == {
            "state": "closed",
            "returned_minutes": 345,
        }
        assert (
            project_progress(project=access_project(project.pk, member=amara)).remaining_minutes
            == 0
        )
    call_command("ledger_audit")  # raises CommandError on any mismatch


def test_notifications_go_to_the_lead_and_the_volunteer(
    network_a: Network, lead: Member, funded: Project, make_member: Callable[..., Member]
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
        volunteer_pledge(actor=amara, project=funded, pledged_minutes=120)  # no second notice
        volunteer_confirm_hours(
            actor=lead,
            project=funded,
            volunteer=volunteer,
            minutes=60,
            worked_on=worked(1),
            key="k",
        )
        to_lead = Notification.objects.filter(recipient=lead).order_by("id")
        assert [n.kind for n in to_lead] == [Kind.PROJECT_FUNDED, Kind.PROJECT_VOLUNTEER]
        assert to_lead[1].title == f"{amara} volunteered for “{funded.title}”"
        assert to_lead[1].url == f"/projects/{funded.pk}/"
        to_amara = Notification.objects.get(recipient=amara)
        assert to_amara.kind == Kind.HOURS_CONFIRMED
        assert to_amara.title == f"1 hour confirmed for “{funded.title}”"


def test_declining_needs_a_reason_is_audited_and_tells_the_lead(
    network_a: Network, lead: Member, organiser: Member, propose: Callable[..., Project]
) -> None:
    project = propose()
    with tenant_context(network_a):
        with pytest.raises(ProjectRefused, match="say why"):
            project_decline(actor=organiser, project=project, reason=" <b></b> ")
        project = project_decline(actor=organiser, project=project, reason="No ward sponsor yet")
        assert project.state == Project.State.DECLINED
        assert project.declined_reason == "No ward sponsor yet"
        assert AuditEvent.objects.get(verb="project.decline").reason == "No ward sponsor yet"
        assert Notification.objects.get(recipient=lead).kind == Kind.PROJECT_DECLINED
        assert not Transfer.objects.filter(kind=Transfer.Kind.PROJECT_FUND).exists()


def _try(action: Callable[..., object], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(ProjectRefused) as refused:
        action(*args, **kwargs)
    return refused.value.message


def test_illegal_transitions_are_refused_and_change_nothing(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        proposed = propose()
        # A proposal can be neither volunteered for, paid from, nor closed.
        assert "proposed, so it cannot be closed" in _try(
            project_close, actor=lead, project=proposed
        )
        assert "cannot be volunteered for" in _try(
            volunteer_pledge, actor=amara, project=proposed, pledged_minutes=60
        )

        funded = project_fund(actor=organiser, project=propose())
        assert "approved and funded, so it cannot be funded" in _try(
            project_fund, actor=organiser, project=funded
        )
        assert "cannot be declined" in _try(
            project_decline, actor=organiser, project=funded, reason="Too late"
        )

        declined = project_decline(actor=organiser, project=propose(), reason="Duplicate")
        actions: list[tuple[Callable[..., object], dict[str, Any]]] = [
            (project_fund, {"actor": organiser}),
            (project_decline, {"actor": organiser, "reason": "Again"}),
            (project_close, {"actor": organiser}),
            (volunteer_pledge, {"actor": amara, "pledged_minutes": 60}),
        ]
        for action, kwargs in actions:
            assert "declined" in _try(action, project=declined, **kwargs)

        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
        closed = project_close(actor=organiser, project=funded)
        assert "closed, so it cannot be closed" in _try(project_close, actor=lead, project=closed)
        assert "cannot be funded" in _try(project_fund, actor=organiser, project=closed)
        assert "cannot be paid from" in _try(
            volunteer_confirm_hours,
            actor=lead,
            project=closed,
            volunteer=volunteer,
            minutes=15,
            worked_on=worked(1),
            key="late",
        )
        assert "cannot be volunteered for" in _try(
            volunteer_pledge, actor=make_member(network_a), project=closed, pledged_minutes=60
        )

        states = dict(Project.objects.values_list("pk", "state"))
        assert states == {proposed.pk: "proposed", funded.pk: "closed", declined.pk: "declined"}
        # One funding and one return: the refusals moved nothing.
        assert Transfer.objects.count() == 2
        assert HoursConfirmation.objects.count() == 0
    call_command("ledger_audit")


def test_overspending_the_budget_is_refused_and_nothing_is_written(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    make_member: Callable[..., Member],
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        project = project_fund(actor=organiser, project=propose(budget_minutes=60))
        volunteer = volunteer_pledge(actor=amara, project=project, pledged_minutes=60)
        volunteer_confirm_hours(
            actor=lead,
            project=project,
            volunteer=volunteer,
            minutes=45,
            worked_on=worked(3),
            key="first",
        )
        transfers, notifications = Transfer.objects.count(), Notification.objects.count()
        with pytest.raises(ProjectRefused) as refused:
            volunteer_confirm_hours(
                actor=lead,
                project=project,
                volunteer=volunteer,
                minutes=30,
                worked_on=worked(2),
                key="second",
            )
        assert refused.value.message == (
            "The project has 15 minutes of its budget left, so it cannot pay 30 minutes. "
            "Confirm fewer hours."
        )
        assert refused.value.field == "minutes"
        assert refused.value.extra == {"remaining_minutes": 15}
        assert not HoursConfirmation.objects.filter(worked_on=worked(2), key="second").exists()
        assert Volunteer.objects.get(pk=volunteer.pk).confirmed_minutes == 45
        assert (Transfer.objects.count(), Notification.objects.count()) == (
            transfers,
            notifications,
        )
        assert member_balance(member=amara) == 45
        assert project_account(project.pk).balance == 15
        # The last quarter hour can still be paid.
        volunteer_confirm_hours(
            actor=lead,
            project=project,
            volunteer=volunteer,
            minutes=15,
            worked_on=worked(1),
            key="third",
        )
        assert project_account(project.pk).balance == 0
        project_close(actor=lead, project=project)  # nothing left: no return transfer
        assert not Transfer.objects.filter(idempotency_key=f"project:{project.pk}:close").exists()
    call_command("ledger_audit")


def test_the_same_key_pays_once_and_cannot_be_reused_for_other_hours(
    network_a: Network, lead: Member, funded: Project, make_member: Callable[..., Member]
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
        first = volunteer_confirm_hours(
            actor=lead,
            project=funded,
            volunteer=volunteer,
            minutes=60,
            worked_on=worked(1),
            key="once",
        )
        again = volunteer_confirm_hours(
            actor=lead,
            project=funded,
            volunteer=volunteer,
            minutes=60,
            worked_on=worked(1),
            key="once",
        )
        assert again.pk == first.pk
        assert "already used for other hours" in _try(
            volunteer_confirm_hours,
            actor=lead,
            project=funded,
            volunteer=volunteer,
            minutes=30,
            worked_on=worked(1),
            key="once",
        )
        assert member_balance(member=amara) == 60
        assert Transfer.objects.filter(kind=Transfer.Kind.PROJECT_CREDIT).count() == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"budget_minutes": 50}, "budget_minutes", "whole or quarter hours"),
        ({"budget_minutes": 0}, "budget_minutes", "between 15 minutes and 1000 hours"),
        ({"budget_minutes": 1000 * 60 + 15}, "budget_minutes", "between 15 minutes"),
        ({"title": "<script></script>"}, "title", "give the project a title"),
        ({"aim": ""}, "aim", "give the project an aim"),
        ({"description": "x" * 6000}, "description", "6,000 characters long"),
        ({"ends_on": timezone.localdate() - datetime.timedelta(days=31)}, "ends_on", "ends before"),
        ({"skills_wanted": ["<b>x</b>"]}, "skills_wanted", "is not a skill tag"),
    ],
)
def test_bad_proposals_are_refused_clearly(
    network_a: Network, lead: Member, change: dict[str, Any], field: str, message: str
) -> None:
    with tenant_context(network_a):
        with pytest.raises(ProjectRefused) as refused:
            project_propose(actor=lead, **{"budget_minutes": 600, **FALLS, **dates(), **change})
        assert message in refused.value.message
        assert refused.value.field == field
        assert not Project.objects.exists()


def test_bad_pledges_and_confirmations_are_refused(
    network_a: Network, lead: Member, funded: Project, make_member: Callable[..., Member]
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        assert "quarter hours" in _try(
            volunteer_pledge, actor=amara, project=funded, pledged_minutes=20
        )
        assert "between 15 minutes and 10 hours" in _try(
            volunteer_pledge, actor=amara, project=funded, pledged_minutes=615
        )
        assert "You lead this project" in _try(
            volunteer_pledge, actor=lead, project=funded, pledged_minutes=60
        )
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
        assert "quarter hours" in _try(
            volunteer_confirm_hours,
            actor=lead,
            project=funded,
            volunteer=volunteer,
            minutes=10,
            worked_on=worked(1),
            key="k",
        )
        assert "needs a key" in _try(
            volunteer_confirm_hours,
            actor=lead,
            project=funded,
            volunteer=volunteer,
            minutes=15,
            worked_on=worked(1),
            key="",
        )
        Project.objects.filter(pk=funded.pk).update(
            starts_on=timezone.localdate() - datetime.timedelta(days=30),
            ends_on=timezone.localdate() - datetime.timedelta(days=1),
        )
        assert "This project ended on" in _try(
            volunteer_pledge, actor=make_member(network_a), project=funded, pledged_minutes=60
        )
        assert Volunteer.objects.count() == 1


def test_who_may_do_what(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    funded: Project,
    make_member: Callable[..., Member],
) -> None:
    member = make_member(network_a)
    other_lead = make_member(network_a, role="qi_lead")
    unverified = make_member(network_a, state=MemberState.UNVERIFIED)
    with tenant_context(network_a):
        with pytest.raises(PermissionDenied, match="Only QI leads and organisers"):
            propose(actor=member)
        with pytest.raises(PermissionDenied):
            propose(actor=unverified)
        assert propose(actor=organiser).lead == organiser  # organisers may propose too
        proposal = propose()
        for actor in (member, lead, other_lead):  # a QI lead cannot fund, not even their own
            with pytest.raises(PermissionDenied, match="Only organisers can approve and fund"):
                project_fund(actor=actor, project=proposal)
            with pytest.raises(PermissionDenied, match="Only organisers can decline"):
                project_decline(actor=actor, project=proposal, reason="No")
        with pytest.raises(PermissionDenied, match="before volunteering"):
            volunteer_pledge(actor=unverified, project=funded, pledged_minutes=60)
        volunteer = volunteer_pledge(actor=member, project=funded, pledged_minutes=60)
        for actor in (member, other_lead, organiser):  # only the lead confirms hours
            with pytest.raises(PermissionDenied, match="Only the project's lead"):
                volunteer_confirm_hours(
                    actor=actor,
                    project=funded,
                    volunteer=volunteer,
                    minutes=15,
                    worked_on=worked(1),
                    key=f"by-{actor.pk}",
                )
        for actor in (member, other_lead):
            with pytest.raises(PermissionDenied, match="lead or an organiser can close"):
                project_close(actor=actor, project=funded)
        assert Project.objects.get(pk=proposal.pk).state == Project.State.PROPOSED
        assert Project.objects.get(pk=funded.pk).state == Project.State.APPROVED
        assert HoursConfirmation.objects.count() == 0


def test_a_volunteer_of_another_project_cannot_be_paid_from_this_one(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    funded: Project,
    make_member: Callable[..., Member],
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        other = project_fund(actor=organiser, project=propose(title="Another project"))
        volunteer = volunteer_pledge(actor=amara, project=other, pledged_minutes=60)
        with pytest.raises(NotFound):
            volunteer_confirm_hours(
                actor=lead,
                project=funded,
                volunteer=volunteer,
                minutes=15,
                worked_on=worked(1),
                key="wrong",
            )
        assert member_balance(member=amara) == 0


def test_proposals_are_seen_by_their_lead_and_organisers_only(
    network_a: Network,
    lead: Member,
    organiser: Member,
    propose: Callable[..., Project],
    funded: Project,
    make_member: Callable[..., Member],
) -> None:
    member, other_lead = make_member(network_a), make_member(network_a, role="qi_lead")
    with tenant_context(network_a):
        proposal = propose(title="Early idea")
        declined = project_decline(actor=organiser, project=propose(), reason="Not now")
        assert [p.pk for p in project_list(member=member)] == [funded.pk]
        assert [p.pk for p in project_list(member=other_lead)] == [funded.pk]
        assert {p.pk for p in project_list(member=lead)} == {funded.pk, proposal.pk, declined.pk}
        assert {p.pk for p in project_list(member=organiser)} == {
            funded.pk,
            proposal.pk,
            declined.pk,
        }
        assert [p.pk for p in project_list(member=organiser, state="proposed")] == [proposal.pk]
        for hidden in (proposal, declined):
            with pytest.raises(NotFound):
                access_project(hidden.pk, member=member)
        assert access_project(proposal.pk, member=organiser).pk == proposal.pk


def test_emails_are_queued_only_for_confirmations_that_commit(
    network_a: Network,
    lead: Member,
    funded: Project,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    amara = make_member(network_a)
    with tenant_context(network_a):
        volunteer = volunteer_pledge(actor=amara, project=funded, pledged_minutes=60)
        with (
            django_capture_on_commit_callbacks() as refused_callbacks,
            pytest.raises(ProjectRefused),
        ):
            volunteer_confirm_hours(
                actor=lead,
                project=funded,
                volunteer=volunteer,
                minutes=11 * 60,
                worked_on=worked(1),
                key="too-much",
            )
        assert refused_callbacks == []
        with django_capture_on_commit_callbacks() as callbacks:
            volunteer_confirm_hours(
                actor=lead,
                project=funded,
                volunteer=volunteer,
                minutes=60,
                worked_on=worked(1),
                key="paid",
            )
        assert len(callbacks) == 2  # the volunteer's "hours confirmed" email, the map refresh
        assert Notification.objects.filter(recipient=amara).count() == 1

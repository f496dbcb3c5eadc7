"""Demonstration QI projects: one funded with volunteers and confirmed hours, one waiting
for an organiser. Made through the services, so the ledger, audit log and notifications
hold what real use would leave behind."""

from __future__ import annotations

import datetime
import random
from typing import TypedDict

from django.utils import timezone

from core.members.models import Member, Role
from core.members.services import member_set_role

from .models import Project
from .services import project_fund, project_propose, volunteer_confirm_hours, volunteer_pledge


class ProjectSpec(TypedDict):
    title: str
    aim: str
    description: str
    budget_minutes: int
    skills_wanted: list[str]


FUNDED: ProjectSpec = {
    "title": "Fewer falls on the frailty wards",
    "aim": "Reduce inpatient falls on our two frailty wards by 30% within six months.",
    "description": "Weekly PDSA cycles on lying and standing blood pressure, bay nursing at "
    "night and footwear checks. Volunteers help with observation audits, run charts and "
    "teaching sessions for the ward teams.",
    "budget_minutes": 40 * 60,
    "skills_wanted": ["run charts", "qi methods", "falls prevention", "teaching"],
}
PROPOSED: ProjectSpec = {
    "title": "Faster discharge letters from the acute medical unit",
    "aim": "Send 90% of discharge letters to GPs within 24 hours by the end of the year.",
    "description": "Mapping the discharge letter process with the AMU team, testing a "
    "template in the electronic record and measuring time to send each week.",
    "budget_minutes": 24 * 60,
    "skills_wanted": ["digital", "data", "project management"],
}


def projects_seed(*, rng: random.Random, members: list[Member]) -> list[Project]:
    """Make one member a QI lead (by the organiser, `members[0]`); they propose two
    projects; the organiser funds the first; four members volunteer and the lead confirms
    some of their hours. The second proposal waits for the organiser."""
    organiser, lead, *others = members
    lead = member_set_role(actor=organiser, member=lead, role=Role.QI_LEAD)
    today = timezone.localdate()
    starts_on, ends_on = today - datetime.timedelta(days=30), today + datetime.timedelta(days=150)
    funded = project_fund(
        actor=organiser,
        project=project_propose(actor=lead, starts_on=starts_on, ends_on=ends_on, **FUNDED),
    )
    for volunteer_member in rng.sample(others, min(4, len(others))):
        volunteer = volunteer_pledge(
            actor=volunteer_member, project=funded, pledged_minutes=rng.choice([4, 6, 8]) * 60
        )
        for session in range(rng.randint(1, 3)):
            # One session a week, in the weeks since the project started.
            worked_on = today - datetime.timedelta(days=7 * session + rng.randint(1, 6))
            volunteer_confirm_hours(
                actor=lead,
                project=funded,
                volunteer=volunteer,
                worked_on=worked_on,
                minutes=rng.choice([45, 60, 90, 120]),
                key=f"demo:{volunteer.pk}:{session}",
            )
    proposed = project_propose(actor=lead, starts_on=starts_on, ends_on=ends_on, **PROPOSED)
    return [funded, proposed]

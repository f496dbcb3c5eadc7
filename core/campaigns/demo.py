"""A demonstration campaign running in each demo network, made through the services: the
organiser starts it a week ago, tags open listings, a session and the funded project to
it, and some members join."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from core.groupsessions.models import GroupSession, SessionState
from core.listings.models import Listing
from core.members.models import Member
from core.projects.models import Project

from .models import Campaign
from .services import campaign_create, campaign_item_add, campaign_join

THEMES = [
    (
        "Green NHS month",
        "A month of lower-carbon care: inhaler switching, fewer wasted "
        "journeys and greener theatres. Offer what you know, ask for help, and count the hours "
        "we give together.",
    ),
    (
        "Reducing length of stay",
        "Getting people home sooner and safer: discharge planning, "
        "criteria-led discharge and working with social care. Every hour of help counts.",
    ),
]


def campaign_seed(
    *,
    rng: random.Random,
    index: int,
    members: list[Member],
    listings: list[Listing],
    projects: list[Project],
) -> Campaign:
    organiser, *others = members
    title, description = THEMES[index % len(THEMES)]
    today = timezone.localdate()
    campaign = campaign_create(
        actor=organiser,
        title=title,
        description=description,
        starts_on=today - datetime.timedelta(days=7),
        ends_on=today + datetime.timedelta(days=21),
        target_minutes=40 * 60,
    )
    open_listings = [listing for listing in listings if listing.status == Listing.Status.OPEN]
    for listing in rng.sample(open_listings, min(4, len(open_listings))):
        campaign_item_add(actor=organiser, campaign=campaign, listing=listing)
    session = GroupSession.objects.filter(state=SessionState.OPEN).order_by("starts_at").first()
    if session is not None:
        campaign_item_add(actor=organiser, campaign=campaign, session=session)
    for project in projects:
        if project.state == Project.State.APPROVED:
            campaign_item_add(actor=organiser, campaign=campaign, project=project)
    for member in rng.sample(others, min(5, len(others))):
        campaign_join(actor=member, campaign=campaign)
    return campaign

"""Demonstration listings that read like real requests and offers between NHS staff."""

from __future__ import annotations

import random

from django.utils import timezone

from core.members.models import Member
from core.notifications.models import Kind
from core.notifications.services import email_preferences_set

from .models import Listing
from .selectors import listing_matched_members
from .services import listing_invite, listing_matches_notify

DEMO_LISTINGS = [
    (
        "offer",
        "teaching",
        "in_person",
        45,
        "Sepsis recognition teaching for ward teams",
        "A 45-minute session on NEWS2 and the Sepsis Six, with real cases from our ED.",
    ),
    (
        "offer",
        "shadowing",
        "in_person",
        240,
        "Shadow a day in the discharge lounge",
        "See how we coordinate transport, TTOs and social care handovers for same-day discharge.",
    ),
    (
        "request",
        "data",
        "video",
        60,
        "Help building run charts for a falls project",
        "Our falls QI project needs someone to show us run charts and SPC rules in Excel.",
    ),
    (
        "offer",
        "qi_methods",
        "video",
        60,
        "Driver diagrams and PDSA cycles, explained",
        "I have led three improvement projects and can help you plan your first PDSA cycles.",
    ),
    (
        "request",
        "coaching",
        "video",
        60,
        "Coaching for a new band 7 ward manager",
        "Recently promoted and would value a few conversations about leading a team.",
    ),
    (
        "offer",
        "mentoring",
        "phone",
        30,
        "Mentoring for internationally educated nurses",
        "Monthly calls about OSCE preparation, NMC revalidation and settling into the NHS.",
    ),
    (
        "offer",
        "clinical_skills",
        "in_person",
        60,
        "Venepuncture and cannulation practice",
        "Supervised practice on the clinical skills manikins, evenings on the education floor.",
    ),
    (
        "request",
        "research",
        "video",
        90,
        "Advice on writing a first research protocol",
        "A physiotherapist planning a small audit-to-research project, needing a sounding board.",
    ),
    (
        "offer",
        "digital",
        "video",
        45,
        "Getting more out of the EPR order sets",
        "Tips and shortcuts for the electronic patient record that save time on every shift.",
    ),
    (
        "offer",
        "leadership",
        "video",
        60,
        "Board papers and business cases that get read",
        "How to write a one-page case for change for an executive team.",
    ),
    (
        "request",
        "wellbeing",
        "in_person",
        30,
        "Start a Schwartz Round in our community team",
        "We would like to learn from someone who has set up Schwartz Rounds before.",
    ),
    (
        "offer",
        "data",
        "video",
        60,
        "Power BI dashboards for your service",
        "I build dashboards for theatre utilisation and can help you get started with yours.",
    ),
    (
        "request",
        "shadowing",
        "in_person",
        180,
        "Shadow a pharmacist on a medicines round",
        "Foundation doctor keen to understand medicines reconciliation on admission.",
    ),
    (
        "offer",
        "coaching",
        "video",
        60,
        "Career conversations for allied health professionals",
        "Consultant OT happy to talk through advanced practice and consultant pathways.",
    ),
]


def listings_seed(*, rng: random.Random, members: list[Member]) -> list[Listing]:
    """Post the demo listings, each by one of the members (never the organiser); the
    requests wait to be matched to people (`matches_seed`), as posted ones do."""
    return Listing.objects.bulk_create(
        Listing(
            owner=rng.choice(members[1:]),
            kind=kind,
            category=category,
            format=fmt,
            duration_minutes=minutes,
            title=title,
            description=description,
            match_pending=kind == Listing.Kind.REQUEST,
            match_queued_at=timezone.now(),
        )
        for kind, category, fmt, minutes, title, description in DEMO_LISTINGS
    )


def matches_seed(*, rng: random.Random, members: list[Member], listings: list[Listing]) -> int:
    """Through the services, as posting would: tell the members each demo request matches,
    and have each poster invite one or two of the best matched to respond. A few members
    chose the daily email of matching requests. Returns how many invitations were made."""
    for member in rng.sample(members[1:], min(3, len(members) - 1)):
        email_preferences_set(actor=member, choices={Kind.REQUEST_MATCH: True})
    invited = 0
    for listing in listings:
        if listing.kind != Listing.Kind.REQUEST:
            continue
        listing_matches_notify(listing_id=listing.pk)
        matched = listing_matched_members(listing=listing, viewer=listing.owner)
        for match in matched[: rng.randint(1, 2)]:
            listing_invite(actor=listing.owner, listing=listing, member_id=match.member.pk)
            invited += 1
    return invited

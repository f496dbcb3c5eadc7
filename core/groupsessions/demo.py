"""Demonstration group sessions, made through the services members use: some open for
booking (one full, with a waiting list), and held ones, settled and disputed.

One liberty: the services refuse to post a session in the past, so a held session is
posted for tomorrow and its time moved back before its giver marks attendance; every
booking, confirmation and movement of credit then goes through the services."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from core.members.models import Member
from kernel.errors import ApplicationError

from . import services as s
from .models import GroupSession

SESSIONS = [
    ("Recognising sepsis early: a teaching session", "teaching", "hybrid", 60, 12),
    ("QI masterclass: run charts and SPC", "qi_methods", "online", 90, 40),
    ("Leading a huddle that works", "leadership", "in_person", 60, 3),
    ("Webinar: writing a good discharge letter", "teaching", "online", 45, 100),
    ("Measuring what matters: choosing QI measures", "data", "online", 75, 25),
]
ROOMS = ["Seminar room 2, Education Centre", "Lecture theatre B", "Library training room"]


def sessions_seed(*, rng: random.Random, members: list[Member]) -> list[GroupSession]:
    """Sessions given by members other than the organiser (members[0]): three ahead, the
    last of them full with a waiting list; one held and settled; one held with an
    attendance disputed, for the organiser to settle."""
    people = members[1:]
    made = []
    now = timezone.now()
    for index, (title, category, fmt, minutes, capacity) in enumerate(SESSIONS):
        giver, *others = rng.sample(people, len(people))
        past = index >= 3
        starts = now + datetime.timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 5))
        slug = title.split(":")[0].lower().replace(" ", "-")[:30]
        try:
            session = s.session_create(
                actor=giver,
                title=title,
                category=category,
                format=fmt,
                minutes=minutes,
                description="Open to every profession. Bring a question from your own work.",
                starts_at=starts.replace(minute=0, second=0, microsecond=0),
                capacity=capacity if not past else 8,
                place=rng.choice(ROOMS) if fmt != "online" else "",
                video_link=f"https://meet.example.org/{slug}" if fmt != "in_person" else "",
            )
            attendees = others[: min(len(others), capacity + 2 if index == 2 else 5)]
            for member in attendees:
                s.booking_create(actor=member, session=session)
            if past:
                held = now - datetime.timedelta(days=rng.randint(1, 5))
                GroupSession.objects.filter(pk=session.pk).update(starts_at=held)
                session.refresh_from_db()
                present = attendees[:4]
                s.attendance_mark(actor=giver, session=session, present=[m.pk for m in present])
                # The last held session has its fourth attendee disputing (when it has one).
                disputing = present[3:] if index == 4 else []
                for member in present[:3] if disputing else present:
                    s.attendance_confirm(actor=member, session=session)
                for member in disputing:
                    s.attendance_dispute(
                        actor=member, session=session, reason="I had to leave after ten minutes."
                    )
        except ApplicationError:
            continue  # e.g. an attendee short of credit: leave this one as it stands
        made.append(session)
    return made

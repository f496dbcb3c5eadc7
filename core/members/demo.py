"""Demonstration members: realistic names, one organiser per network."""

from __future__ import annotations

import random

from django.contrib.auth.hashers import make_password

from .models import ContactFormat, Member, Role
from .skills import CURATED_SKILLS

FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chioma",
    "Daniel",
    "Eleanor",
    "Farah",
    "George",
    "Hannah",
    "Imran",
    "Jade",
    "Kwame",
    "Laura",
    "Mohammed",
    "Niamh",
    "Oluwaseun",
    "Priya",
    "Rhys",
    "Sofia",
    "Tomasz",
    "Uzma",
    "Victoria",
    "William",
    "Yusuf",
    "Zara",
    "Aisha",
    "Callum",
    "Deepa",
    "Ewan",
    "Grace",
    "Harpreet",
]
LAST_NAMES = [
    "Adeyemi",
    "Begum",
    "Campbell",
    "Davies",
    "Evans",
    "Fernandes",
    "Green",
    "Hussain",
    "Iqbal",
    "Jones",
    "Kaur",
    "Lewis",
    "Mensah",
    "Nowak",
    "O'Brien",
    "Patel",
    "Quinn",
    "Roberts",
    "Singh",
    "Thomas",
    "Usman",
    "Walker",
    "Williams",
    "Yilmaz",
]


# (profession, role and grade) pairs as people write them on NHS staff profiles.
ROLES = [
    ("nurse", "Staff nurse, Band 5"),
    ("nurse", "Ward sister, Band 7"),
    ("nurse", "Clinical nurse specialist (sepsis), Band 7"),
    ("midwife", "Community midwife, Band 6"),
    ("doctor", "Foundation doctor (FY2)"),
    ("doctor", "Consultant in acute medicine"),
    ("doctor", "GP partner"),
    ("ahp", "Physiotherapist, Band 6"),
    ("ahp", "Occupational therapist, Band 6"),
    ("ahp", "Paramedic, Band 6"),
    ("pharmacist", "Ward pharmacist, Band 7"),
    ("scientist", "Biomedical scientist, Band 6"),
    ("manager", "Service manager, Band 8a"),
    ("manager", "QI facilitator, Band 7"),
    ("social_care", "Senior care worker"),
    ("student", "Student nurse, second year"),
]
ORGANISATIONS = [
    "Oxford University Hospitals",
    "Oxford Health",
    "Royal Berkshire Hospital",
    "Buckinghamshire Healthcare",
    "Banbury Cross Health Centre",
    "South Central Ambulance Service",
    "University Hospitals Coventry and Warwickshire",
    "South Warwickshire University",
]
FREE_SKILLS = [
    "sepsis screening",
    "falls prevention",
    "dementia care",
    "discharge planning",
    "osce preparation",
    "revalidation",
    "tissue viability",
    "medicines reconciliation",
    "frailty",
    "end of life care",
    "ecg interpretation",
    "infection prevention",
]
AVAILABILITY = [
    "Tuesday afternoons",
    "Most lunchtimes, 12:30 to 13:30",
    "After 5pm on weekdays",
    "Days only; I rotate to nights every third week",
    "Fridays, by arrangement",
]
LOCATIONS = [
    "John Radcliffe, Oxford",
    "Churchill Hospital",
    "Horton General, Banbury",
    "Warwick Hospital",
    "Coventry",
    "Working remotely",
]


def demo_profile(rng: random.Random) -> dict[str, object]:
    """Profile fields for one demo member: a profession with a matching role and grade,
    a few curated skills and one free tag, and where and when they can help."""
    profession, job_title = rng.choice(ROLES)
    skills = rng.sample(CURATED_SKILLS, rng.randint(1, 3)) + rng.sample(FREE_SKILLS, 1)
    return {
        "profession": profession,
        "job_title": job_title,
        "organisation": rng.choice(ORGANISATIONS),
        "skills": skills,
        "availability": rng.choice(AVAILABILITY),
        "location": rng.choice(LOCATIONS),
        "preferred_formats": rng.sample(ContactFormat.values, rng.randint(1, 2)),
        "bio": f"{job_title}. Happy to share what I know about {skills[0]}.",
    }


def members_seed(
    *, rng: random.Random, count: int, email_domain: str, organiser_email: str, password: str
) -> list[Member]:
    """Create an organiser and `count` members in the current network.

    All demo members share one password, hashed once: hashing it per member would make
    the first start of `hexitime up` take a minute.
    """
    hashed = make_password(password)
    people = [(organiser_email, "Olivia Organiser")]
    used: set[str] = set()
    while len(people) < count + 1:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = f"{first}.{last}".lower().replace("'", "")
        if local not in used:
            used.add(local)
            people.append((f"{local}@{email_domain}", f"{first} {last}"))
    members = [
        Member(email=email, full_name=name, password=hashed, **demo_profile(rng))
        for email, name in people
    ]
    members[0].role, members[0].profession = Role.ORGANISER, "manager"
    members[0].job_title = "Network organiser"
    return Member.objects.bulk_create(members)

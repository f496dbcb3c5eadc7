"""Demonstration members: realistic names, one organiser per network."""

from __future__ import annotations

import random

from django.contrib.auth.hashers import make_password

from .models import Member, Role

FIRST_NAMES = [
    "Amara", "Ben", "Chioma", "Daniel", "Eleanor", "Farah", "George", "Hannah", "Imran",
    "Jade", "Kwame", "Laura", "Mohammed", "Niamh", "Oluwaseun", "Priya", "Rhys", "Sofia",
    "Tomasz", "Uzma", "Victoria", "William", "Yusuf", "Zara", "Aisha", "Callum", "Deepa",
    "Ewan", "Grace", "Harpreet",
]  # fmt: skip
LAST_NAMES = [
    "Adeyemi", "Begum", "Campbell", "Davies", "Evans", "Fernandes", "Green", "Hussain",
    "Iqbal", "Jones", "Kaur", "Lewis", "Mensah", "Nowak", "O'Brien", "Patel", "Quinn",
    "Roberts", "Singh", "Thomas", "Usman", "Walker", "Williams", "Yilmaz",
]  # fmt: skip


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
    members = [Member(email=email, full_name=name, password=hashed) for email, name in people]
    members[0].role = Role.ORGANISER
    return Member.objects.bulk_create(members)


JOB_TITLES = {
    "nurse": ["Band 5 staff nurse", "Band 6 ward sister", "Band 7 clinical nurse specialist"],
    "midwife": ["Band 6 community midwife", "Band 7 labour ward coordinator"],
    "doctor": ["FY2 doctor", "ST4 registrar in acute medicine", "Consultant anaesthetist"],
    "ahp": ["Band 6 physiotherapist", "Band 7 occupational therapist", "Dietitian"],
    "pharmacist": ["Band 7 ward pharmacist", "Antimicrobial pharmacist"],
    "scientist": ["Clinical scientist, haematology", "Healthcare science practitioner"],
    "manager": ["Operational service manager", "Quality improvement programme manager"],
    "social_care": ["Care coordinator", "Registered manager, home care"],
    "student": ["Third-year nursing student", "Medical student"],
}
ORGANISATIONS = {
    "ouh.nhs.uk": ["Oxford University Hospitals", "Oxford Health",
                   "South Central Ambulance Service"],
    "warwick.ac.uk": ["University Hospitals Coventry and Warwickshire", "Warwick Business School",
                      "South Warwickshire University NHS Foundation Trust"],
}  # fmt: skip
LOCATIONS = ["John Radcliffe Hospital", "Churchill Hospital", "Horton General", "Coventry",
             "Warwick Hospital", "Remote"]  # fmt: skip
AVAILABILITY = ["Tuesday afternoons", "After 4pm on weekdays", "Lunchtimes, 12-1",
                "Non-clinical Fridays", "Evenings by video"]  # fmt: skip
BIOS = [
    "Happy to share what I have learned running {skill} sessions on the wards. "
    "Keen to learn more about {other}.",
    "I have been in the NHS for {years} years. Ask me about {skill}; "
    "I would love an hour with someone who knows {other}.",
    "Working on a QI project this year and looking for help with {other}. "
    "I can offer {skill} in return.",
]


def profiles_seed(*, rng: random.Random, members: list[Member], email_domain: str) -> None:
    """Fill in realistic profiles for demo members who already have a profession and
    skills (the listings demo gives those)."""
    organisations = ORGANISATIONS.get(email_domain, ["NHS trust"])
    for member in members:
        skills = member.skills or ["teaching", "coaching"]
        member.job_title = rng.choice(JOB_TITLES.get(member.profession, ["Staff member"]))
        member.organisation = rng.choice(organisations)
        member.location = rng.choice(LOCATIONS)
        member.availability = rng.choice(AVAILABILITY)
        member.preferred_formats = rng.sample(["in_person", "video", "phone"], rng.randint(1, 2))
        member.bio = rng.choice(BIOS).format(
            skill=skills[0], other=rng.choice(["run charts", "leadership", "research", "coaching"]),
            years=rng.randint(2, 25),
        )  # fmt: skip
    Member.objects.bulk_update(
        members,
        ["job_title", "organisation", "location", "availability", "preferred_formats", "bio"],
    )

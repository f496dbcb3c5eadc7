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

"""Demonstration CPD records, through the same services members use: each member's scheme
by profession, written reflections on some of their entries, and one issued record."""

from __future__ import annotations

import random

from core.members.models import Member, Profession

from .models import Scheme
from .selectors import cpd_entries
from .services import cpd_note_save, cpd_record_issue, cpd_scheme_set

SCHEMES = {
    Profession.NURSE: Scheme.NMC,
    Profession.MIDWIFE: Scheme.NMC,
    Profession.DOCTOR: Scheme.GMC,
    Profession.AHP: Scheme.HCPC,
    Profession.SCIENTIST: Scheme.HCPC,
}
REFLECTIONS = [
    "Seeing a colleague from another profession work through the same problem changed how I "
    "hand over to the night team. Relates to the Code: work co-operatively.",
    "I had never plotted our falls data on a run chart; now I can tell a real change from "
    "noise. I will show the ward team at the next huddle.",
    "Explaining my approach made me notice the steps I skip when busy. I have written them "
    "down as a checklist for students.",
]


def cpd_seed(*, rng: random.Random, members: list[Member]) -> None:
    """Schemes for the members whose profession has one; reflections on about half of the
    entries of those with any; a record issued for the first of them."""
    issued = False
    for member in members:
        scheme = SCHEMES.get(member.profession)  # type: ignore[call-overload]
        if scheme is None:
            continue
        cpd_scheme_set(actor=member, scheme=scheme)
        entries = cpd_entries(member=member)
        for shown in entries:
            if rng.random() < 0.5:
                cpd_note_save(
                    actor=member,
                    source=shown.entry.source,
                    source_id=shown.entry.source_id,
                    reflection=rng.choice(REFLECTIONS),
                )
        if entries and not issued:
            cpd_record_issue(actor=member)
            issued = True

"""Demonstration gifts: thanks between colleagues, a gift to the funded QI project, gifts
to the community pot and two grants from it by the organiser, each with its message or
reason. Made through the services, so the ledger, audit log and notifications hold what
real use would leave behind."""

from __future__ import annotations

import random

from core.members.models import Member
from core.projects.models import Project
from ledger.selectors import member_balance
from ledger.services import pot_account

from .services import gift_give, pot_grant

THANKS = [
    "Thank you for covering my clinic at short notice.",
    "For the brilliant run chart teaching: it made our ward huddle.",
    "You stayed late to help me with my first audit. Thank you.",
    "Thanks for the mentoring before my band 7 interview.",
]
TO_THE_POT = ["For new starters.", "Pass it on.", "", "For whoever needs it most."]


def giving_seed(*, rng: random.Random, members: list[Member], projects: list[Project]) -> None:
    """`members[0]` is the organiser. Givers only give what they hold (the ledger would
    refuse the rest) and stay well within the default monthly limit."""
    organiser, *others = members
    others = [m for m in others if m.can_transact]
    givers = [m for m in others if member_balance(member=m) >= 90]
    rng.shuffle(givers)
    half = len(givers) // 2
    for n, (giver, receiver) in enumerate(zip(givers[:half], givers[half:], strict=False)):
        gift_give(
            actor=giver,
            recipient=receiver,
            minutes=rng.choice([15, 30]),
            message=THANKS[n % len(THANKS)],
            key=f"demo:thanks:{n}",
        )
    funded = next((p for p in projects if p.state == Project.State.APPROVED), None)
    if funded is not None and givers:
        gift_give(
            actor=givers[-1],
            project=funded,
            minutes=15,
            key="demo:project",
            message="Keep the falls work going.",
        )
    for n, giver in enumerate(givers[:4]):  # each gives at most 30 + 30 of their 90 or more
        gift_give(
            actor=giver, minutes=30, message=TO_THE_POT[n % len(TO_THE_POT)], key=f"demo:pot:{n}"
        )
    newest = sorted(others, key=lambda m: (m.date_joined, m.pk))[-2:]
    reasons = [
        "New starter on the acute medical unit: a head start.",
        "Credit lost when a disputed exchange was cancelled.",
    ]
    for n, (member, reason) in enumerate(zip(newest, reasons, strict=False)):
        if pot_account().balance >= 30:
            pot_grant(
                actor=organiser, recipient=member, minutes=30, reason=reason, key=f"demo:grant:{n}"
            )

"""Demonstration equality answers: most demo members answer, with a spread loosely like
the NHS workforce's, so the organiser's report and the staff view have figures to show
(and stars where groups are small). Saved through the service, with consent, as a
member would."""

from __future__ import annotations

import random

from core.members.models import Member

from .services.equality import equality_answers_save

_SPREAD: dict[str, dict[str, int]] = {
    "ethnic_group": {
        "white_british": 55,
        "white_other": 8,
        "white_irish": 2,
        "asian_indian": 8,
        "asian_pakistani": 4,
        "asian_bangladeshi": 1,
        "asian_chinese": 2,
        "asian_other": 3,
        "black_african": 6,
        "black_caribbean": 3,
        "mixed_white_black_caribbean": 1,
        "mixed_other": 1,
        "other_arab": 1,
        "prefer_not_to_say": 5,
    },
    "gender": {"woman": 72, "man": 23, "non_binary": 1, "prefer_not_to_say": 4},
    "age_band": {
        "16_24": 6,
        "25_34": 26,
        "35_44": 28,
        "45_54": 24,
        "55_64": 14,
        "65_plus": 1,
        "prefer_not_to_say": 1,
    },
    "disability": {"no": 80, "yes": 12, "prefer_not_to_say": 8},
    "background": {
        "professional": 30,
        "manager": 10,
        "clerical": 12,
        "small_business": 6,
        "technical": 12,
        "routine": 16,
        "unemployed": 3,
        "other": 6,
        "prefer_not_to_say": 5,
    },
}


def equality_seed(*, rng: random.Random, members: list[Member], share: float = 0.8) -> int:
    """Answer the equality questions for about `share` of `members`; how many answered."""
    answered = 0
    for member in members:
        if rng.random() >= share:
            continue
        answers = {
            question: rng.choices(list(spread), weights=list(spread.values()))[0]
            for question, spread in _SPREAD.items()
        }
        equality_answers_save(actor=member, consent=True, **answers)
        answered += 1
    return answered

"""Demonstration stories, through the same services: the receivers of completed exchanges
tell what changed, most agreeing to publication; the organiser picks some for the impact
page and the public home."""

from __future__ import annotations

import random

from django.db.models import Q

from core.exchanges.models import Exchange, State
from core.members.models import Member

from .services import story_pick, story_write

STORIES = [
    "After shadowing the discharge team, our ward now starts discharge letters on admission. "
    "Patients leave earlier in the day.",
    "We used the run chart method on pressure ulcers: three months without a new grade 2.",
    "The coaching helped me lead our first team huddle; staff say handovers feel calmer.",
    "I now explain inhaler technique with the teach-back method; two patients told me it "
    "finally makes sense.",
    "Our community team adopted the frailty screening tool we learned about. Referrals are "
    "quicker and better targeted.",
]


def stories_seed(*, rng: random.Random, members: list[Member]) -> None:
    """A story from the receiver of each completed exchange (some without consent, some
    with a name), and the organiser (members[0]) picking three for publication."""
    organiser = members[0]
    exchanges = (
        Exchange.objects.filter(state=State.COMPLETED)
        .filter(Q(receiver__in=members))
        .order_by("completed_at", "pk")
    )
    written = []
    for exchange, text in zip(exchanges, STORIES, strict=False):
        if exchange.receiver is None:
            continue
        written.append(
            story_write(
                actor=exchange.receiver,
                source="exchange",
                source_id=exchange.pk,
                text=text,
                consent=rng.random() < 0.8,
                show_name=rng.random() < 0.5,
            )
        )
    for index, story in enumerate(s for s in written if s.consent):
        if index < 3:
            story_pick(actor=organiser, story=story, on_impact=True, on_home=index < 2)

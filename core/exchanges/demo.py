"""Demonstration exchanges, made through the same services members use: completed ones
(so credit has moved and thanks are on profiles) and some at each stage in between."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from core.listings.models import Listing
from core.members.models import Member
from kernel.errors import ApplicationError

from . import services as x
from .models import Exchange

THANKS = [
    "Thank you: I came away with a plan for next week.",
    "Really generous with your time, and so practical.",
    "Exactly what our team needed. Thank you!",
    "Clear, kind and full of good examples.",
]


def exchanges_seed(
    *, rng: random.Random, members: list[Member], listings: list[Listing], completed: int = 8
) -> list[Exchange]:
    """Answer demo listings with members other than the owner (never the organiser,
    members[0]): `completed` exchanges run to the end, then one at each earlier stage."""
    made: list[Exchange] = []
    stages = ["completed"] * completed + ["responded", "scheduled", "recorded", "disputed"]
    for stage, listing in zip(
        stages, rng.sample(listings, min(len(stages), len(listings))), strict=False
    ):
        responder = rng.choice([m for m in members[1:] if m.pk != listing.owner_id])
        owner = listing.owner
        try:
            made.append(_walk(rng, listing, owner, responder, stage))
        except ApplicationError:
            continue  # e.g. a receiver already spent their credit: skip this one
    return made


def _walk(
    rng: random.Random, listing: Listing, owner: Member, responder: Member, stage: str
) -> Exchange:
    hello = "Hello! I would love to arrange this. When suits you?"
    exchange = x.exchange_respond(actor=responder, listing=listing, message=hello)
    if stage == "responded":
        return exchange
    x.exchange_accept(actor=owner, exchange=exchange)
    if stage == "scheduled":
        # Meetings can only be arranged for the future; the finished exchanges below
        # met informally on a past day, which the giver records with the hours.
        when = timezone.now() + datetime.timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 6))
        place = listing.location or "Video call (link to follow)"
        proposal = x.exchange_propose(
            actor=responder, exchange=exchange, starts_at=when, place=place
        )
        return x.exchange_agree(actor=owner, exchange=exchange, proposal_id=proposal.pk)
    giver = exchange.giver
    receiver = exchange.receiver
    if giver is None or receiver is None:
        return exchange
    met_on = timezone.localdate() - datetime.timedelta(days=rng.randint(1, 14))
    x.exchange_record_hours(
        actor=giver, exchange=exchange, minutes=rng.choice([30, 45, 60]), met_on=met_on
    )
    if stage == "recorded":
        return exchange
    if stage == "disputed":
        return x.exchange_dispute(
            actor=receiver, exchange=exchange, reason="We met for less time than recorded."
        )
    x.exchange_confirm(actor=receiver, exchange=exchange)
    x.thanks_give(actor=receiver, exchange=exchange, text=rng.choice(THANKS))
    return exchange

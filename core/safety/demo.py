"""Demonstration safety data, made through the same services members and organisers use:
the network's safeguarding contact, a block between two members, open reports of a
listing, a profile and a message for the organisers' queue, and one report acted on."""

from __future__ import annotations

import random

from core.exchanges.models import Message
from core.exchanges.services import safeguarding_contact_set
from core.listings.models import Listing
from core.members.models import Member
from core.members.services import member_block

from .models import Report
from .services import report_act, report_create


def safety_seed(
    *, rng: random.Random, members: list[Member], listings: list[Listing], email_domain: str
) -> list[Report]:
    """`members[0]` is the organiser. Returns the reports made."""
    organiser, people = members[0], members[1:]
    safeguarding_contact_set(
        actor=organiser,
        name="Dr Priya Shah",
        role="Named nurse for safeguarding adults",
        email=f"safeguarding@{email_domain}",
        phone="01865 740 000",
        note="Weekdays 9am to 5pm. Out of hours, call the duty safeguarding lead on the same "
        "number.",
    )
    reports: list[Report] = []
    others = [
        item
        for item in listings
        if item.owner_id != organiser.pk
        and item.status == Listing.Status.OPEN
        and not item.hidden_reason
    ]
    if len(people) < 4 or not others:
        return reports  # too small a network for the scenes below
    listing = rng.choice(others)
    reporter = rng.choice([m for m in people if m.pk != listing.owner_id])
    reports.append(
        report_create(
            actor=reporter,
            target_kind="listing",
            target_id=listing.pk,
            category="spam",
            details="This reads like an advert for paid private tutoring, not a time exchange.",
        )
    )
    subject = rng.choice([m for m in people if m.pk != reporter.pk])
    reports.append(
        report_create(
            actor=reporter,
            target_kind="profile",
            target_id=subject.pk,
            category="harassment",
            details="After our exchange they kept messaging me on my work phone late at night.",
        )
    )
    message = (
        Message.objects.filter(exchange__giver__isnull=False, exchange__receiver__isnull=False)
        .exclude(side="organiser")
        .select_related("exchange")
        .order_by("pk")
        .first()
    )
    if message is not None:
        exchange = message.exchange
        other = exchange.receiver if message.side == "giver" else exchange.giver
        if other is not None:
            reports.append(
                report_create(
                    actor=other,
                    target_kind="message",
                    target_id=message.pk,
                    category="inappropriate",
                    details="The tone of this message upset me.",
                )
            )
    warned = rng.choice([m for m in people if m.pk not in {reporter.pk, subject.pk}])
    handled = report_create(
        actor=reporter,
        target_kind="profile",
        target_id=warned.pk,
        category="other",
        details="Their profile photo is a picture of a patient's X-ray with details visible.",
    )
    note = "Please remove the X-ray from your profile: it shows patient details."
    report_act(actor=organiser, report=handled, outcome="warn", note=note)
    reports.append(handled)
    # Last, so the block hides nothing the scenes above needed to see.
    blocker, blocked = rng.sample(people, 2)
    member_block(actor=blocker, member=blocked)
    return reports

"""Demonstration announcement: the organiser's welcome to every member, sent through the
same services an organiser uses, so it is on every demo member's home page."""

from __future__ import annotations

from core.members.models import Member

from .models import Announcement, Delivery, Recipient
from .services import announcement_create, announcement_send


def announcements_seed(*, members: list[Member]) -> Announcement:
    """`members[0]` is the organiser. The demo's people are fictional: their emails are
    marked not emailed, so the queued batches find nothing pending and send nothing."""
    organiser = members[0]
    draft = announcement_create(
        actor=organiser,
        title="Welcome to our time bank",
        body="Thank you for joining. Offer an hour of what you know, or ask for help with "
        "something you want to learn: every hour given earns an hour of credit.\n\n"
        "Our first QI masterclass is next month; look for it under Sessions.",
    )
    announcement = announcement_send(actor=organiser, announcement=draft)
    Recipient.objects.filter(announcement=announcement, email=Delivery.PENDING).update(
        email=Delivery.NOT_EMAILED, queued_at=None
    )
    return announcement

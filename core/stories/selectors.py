"""Reading stories: a member's own, the organisers' list, and what is published."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core.members.models import Member
from kernel.errors import NotFound, PermissionDenied

from .models import Story

PUBLISHED_LIMIT = 6


def stories_mine(*, member: Member) -> QuerySet[Story]:
    return Story.objects.filter(author=member)


def story_for(*, member: Member, source: str, source_id: int) -> Story | None:
    return Story.objects.filter(author=member, source=source, source_id=source_id).first()


def stories_submitted(*, actor: Member) -> QuerySet[Story]:
    """Every story that stands (not withdrawn), for organisers: one query with authors.
    Refused (PermissionDenied, 403) to anyone whose role lacks `stories.pick_story`."""
    if not actor.has_perm("stories.pick_story"):
        raise PermissionDenied(_("Only organisers can see submitted stories."))
    return Story.objects.filter(withdrawn_at__isnull=True).select_related("author")


def stories_published(*, place: str, limit: int = PUBLISHED_LIMIT) -> list[Story]:
    """Stories picked for `place` ("impact" or "home"), consented and standing, latest
    picked first: one query."""
    picked = {"on_impact": True} if place == "impact" else {"on_home": True}
    return list(
        Story.objects.filter(consent=True, withdrawn_at__isnull=True, **picked)
        .select_related("author")
        .order_by("-picked_at", "-id")[:limit]
    )


def access_story(story_id: int, *, member: Member) -> Story:
    """The member's own story, or for an organiser one that stands; else not found."""
    story = Story.objects.select_related("author").filter(pk=story_id).first()
    if story is not None and (
        story.author_id == member.pk
        or (story.withdrawn_at is None and member.has_perm("stories.pick_story"))
    ):
        return story
    raise NotFound("No such story.")


def story_byline(story: Story) -> str:
    """How a published story is signed: the author's name only if they chose so."""
    return story.author.full_name if story.show_name else ""

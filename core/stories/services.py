"""Writing, withdrawing and picking stories.

A member writes one story per subject they took part in (writing again edits it); taking
consent back, or withdrawing, takes it off every page at once (and unpicks it, which the
database's check also demands). Organisers pick and unpick, audited; the author is told
when their story is first picked.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.members.models import Member
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import durable_service
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import plain_text

from .models import TEXT_LIMIT, Story
from .sources import SOURCES


class StoryRefused(ApplicationError):
    pass


@durable_service
def story_write(
    *, actor: Member, source: str, source_id: int, text: str, consent: bool, show_name: bool
) -> Story:
    """The actor's story about a subject they took part in (not found otherwise): created,
    or edited (and standing again if it had been withdrawn). Without consent it is unpicked
    and organisers see it for their own learning only."""
    find = SOURCES.get(source)
    subject = find(actor, source_id) if find is not None else None
    if subject is None:
        raise NotFound(
            _(
                "You can only share a story about a completed exchange or a "
                "settled group session you took part in."
            )
        )
    body = plain_text(
        text,
        name="text",
        limit=TEXT_LIMIT,
        missing=_("Please write your story."),
        refusal=StoryRefused,
    )
    story = (
        Story.objects.select_for_update()
        .filter(author=actor, source=source, source_id=source_id)
        .first()
    )
    if story is None:
        return Story.objects.create(
            author=actor,
            source=source,
            source_id=source_id,
            subject=subject.title[:200],
            text=body,
            consent=bool(consent),
            show_name=bool(show_name),
        )
    story.text, story.consent, story.show_name = body, bool(consent), bool(show_name)
    story.withdrawn_at = None
    if not story.consent:
        story.on_impact = story.on_home = False
    story.save(
        update_fields=[
            "text",
            "consent",
            "show_name",
            "withdrawn_at",
            "on_impact",
            "on_home",
            "updated_at",
        ]
    )
    return story


@durable_service
def story_withdraw(*, actor: Member, story: Story) -> Story:
    """The author takes their story back: off every page and out of the organisers' list."""
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.author_id != actor.pk:
        raise NotFound(_("No such story."))
    story.withdrawn_at = story.withdrawn_at or timezone.now()
    story.on_impact = story.on_home = False
    story.save(update_fields=["withdrawn_at", "on_impact", "on_home", "updated_at"])
    return story


@durable_service
def story_pick(*, actor: Member, story: Story, on_impact: bool, on_home: bool) -> Story:
    """An organiser chooses where a consented story appears (both False: nowhere). Audited;
    the author is told the first time it is picked."""
    if not actor.has_perm("stories.pick_story"):
        raise PermissionDenied(_("Only organisers can pick stories."))
    story = Story.objects.select_for_update().select_related("author").get(pk=story.pk)
    if story.withdrawn_at is not None:
        raise NotFound(_("No such story."))
    if (on_impact or on_home) and not story.consent:
        raise StoryRefused(
            _("The author has not agreed to this story being published."), field="consent"
        )
    before = {"on_impact": story.on_impact, "on_home": story.on_home}
    story.on_impact, story.on_home = bool(on_impact), bool(on_home)
    if story.on_impact or story.on_home:
        story.picked_at = story.picked_at or timezone.now()
    story.save(update_fields=["on_impact", "on_home", "picked_at", "updated_at"])
    after = {"on_impact": story.on_impact, "on_home": story.on_home}
    if before != after:
        audit_record(actor=actor, verb="story.pick", target=story, before=before, after=after)
    if (story.on_impact or story.on_home) and not any(before.values()):
        notification_send(
            recipient=story.author,
            kind=Kind.STORY_PICKED,
            key=f"story:{story.pk}:picked:{story.picked_at:%Y%m%d%H%M%S%f}",
            title=_("Your story about “%(subject)s” was picked") % {"subject": story.subject},
            body=_(
                "An organiser chose it for the network's pages. You can withdraw it at any "
                "time from your stories."
            ),
            url="/stories/",
        )
    return story


def stories_erase_for_member(*, member: Member) -> None:
    """For a closing account (inside its transaction): their stories go from everywhere."""
    Story.objects.filter(author=member).delete()

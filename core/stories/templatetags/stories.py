from django import template

from core.stories.models import Story
from core.stories.selectors import story_byline

register = template.Library()


@register.filter
def byline(story: Story) -> str:
    """The name a published story is signed with, or empty."""
    return story_byline(story)

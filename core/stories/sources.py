"""What a story may be about: the one place an app contributes subjects.

A source is a function `(member, source_id) -> Subject | None`: the subject when the member
took part in it and it is finished (a completed exchange, a settled group session), else
None. To add one, write it over the contributing app's selectors and add it to `SOURCES`
under the name the stories carry."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from core.exchanges.models import Exchange, State
from core.groupsessions.selectors import session_taken_part
from core.members.models import Member


@dataclass(frozen=True, slots=True)
class Subject:
    title: str
    on: datetime.date
    url: str


Source = Callable[[Member, int], Subject | None]


def exchange_subject(member: Member, source_id: int) -> Subject | None:
    """A completed exchange the member gave or received."""
    found = (
        Exchange.objects.filter(
            Q(giver=member) | Q(receiver=member), pk=source_id, state=State.COMPLETED
        )
        .values_list("listing__title", "met_on")
        .first()
    )
    if found is None or found[1] is None:
        return None
    return Subject(title=found[0], on=found[1], url=f"/exchanges/{source_id}/")


def session_subject(member: Member, source_id: int) -> Subject | None:
    """A settled group session the member gave or attended."""
    session = session_taken_part(member=member, session_id=source_id)
    if session is None:
        return None
    return Subject(
        title=session.title, on=timezone.localdate(session.starts_at), url=f"/sessions/{source_id}/"
    )


SOURCES: dict[str, Source] = {
    "exchange": exchange_subject,
    "session": session_subject,
}

"""An exchange's agreed meeting as a calendar event: the invite both sides are emailed
when a time is agreed (METHOD:REQUEST), again with a higher SEQUENCE when it changes, and
METHOD:CANCEL when the exchange is cancelled; the same event on the page's download and
in each side's private feed."""

from __future__ import annotations

from collections.abc import Callable

from core.exchanges.models import DEFAULT_MEETING_MINUTES, Exchange
from core.members.models import Member
from kernel import ics
from kernel.db import connection
from tenants.selectors import network_current, network_url


def exchange_event(
    exchange: Exchange,
    *,
    member: Member | None,
    schema_name: str,
    url: str = "",
    cancelled: bool = False,
) -> ics.Event:
    """The agreed meeting of `exchange` (hosted in `schema_name`) as `member` sees it:
    a member of the hosting network, or, read in their own network's schema, the member of
    a partner network taking part (ids are per network, so theirs says nothing here)."""
    if exchange.meeting_at is None:
        raise ValueError(f"exchange {exchange.pk} has no agreed meeting")
    if connection.schema_name == schema_name:
        gives = member is not None and member.pk == exchange.giver_id
    else:
        gives = exchange.giver_id is None  # the partner's member is the side with no id here
    other = exchange.receiver_name if gives else exchange.giver_name
    return ics.Event(
        uid=ics.uid_for("exchange", exchange.pk, schema_name),
        sequence=exchange.meeting_sequence,
        starts_at=exchange.meeting_at,
        minutes=DEFAULT_MEETING_MINUTES,
        title=f"{exchange.listing.title} (with {other})",
        description=f"An exchange arranged on Hexitime with {other}.",
        place=exchange.meeting_place,
        video_link=exchange.video_link,
        url=url,
        attendee_email=member.email if member is not None else "",
        attendee_name=member.full_name if member is not None else "",
        cancelled=cancelled,
    )


def invite_for(exchange: Exchange, *, cancelled: bool = False) -> Callable[[Member, str], str]:
    """What `notify` attaches: the invite for the member it is sending to, whose own site
    shows the exchange at `page` (a path). Read here, in the hosting network."""
    here = network_current()
    schema_name, network_name = here.schema_name, here.name

    def build(member: Member, page: str) -> str:
        url = network_url(network_current(), page)
        event = exchange_event(
            exchange, member=member, schema_name=schema_name, url=url, cancelled=cancelled
        )
        return ics.invite(event, network_name=network_name)

    return build

"""Where the entries of a member's learning record come from: the one place an app
contributes them.

A source is a function `(member, start, end) -> Iterable[Entry]` yielding the member's
entries dated within [start, end] (either bound may be None), read from rows the ledger
backs (completed exchanges, confirmed project hours), so the date, minutes and role are
facts no one edits here. To add one, write such a function over the contributing app's
selectors and add it to `SOURCES` under its name; the name and
the entry's `source_id` key the member's reflection and corrections (`EntryNote`), so
both must stay stable. An entry that is not learning (a credit gift) says `counts=False`:
it is listed with its role ("gift") and never adds to the hours.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exchanges.models import Exchange, State
from core.exchanges.selectors import partner_exchanges
from core.giving.selectors import member_gifts
from core.groupsessions.models import Format as SessionFormat
from core.groupsessions.selectors import member_session_record
from core.listings.models import Listing
from core.members.models import Member
from core.projects.models import HoursConfirmation
from tenants.selectors import network_current

from .models import Format


class Role:
    GAVE = "gave"
    RECEIVED = "received"
    GIFT = "gift"


@dataclass(frozen=True, slots=True)
class Entry:
    source: str
    source_id: int
    on: datetime.date
    minutes: int
    role: str  # Role.*
    format: str  # Format.* or "" when the source cannot tell
    topic: str
    participatory: bool  # the source's default; the member may correct it
    counts: bool = True  # False: listed, never CPD hours (a credit gift)
    url: str = ""


Source = Callable[[Member, datetime.date | None, datetime.date | None], Iterable[Entry]]

VIRTUAL_LISTING_FORMATS = (Listing.Format.VIDEO, Listing.Format.PHONE)


def _exchange_format(listing_format: str, place: str) -> str:
    if listing_format == Listing.Format.IN_PERSON:
        return Format.IN_PERSON
    if listing_format in VIRTUAL_LISTING_FORMATS:
        return Format.VIRTUAL
    # "Any": a video link as the agreed place says virtual, an address in person.
    if not place:
        return ""
    return Format.VIRTUAL if place.startswith(("http://", "https://")) else Format.IN_PERSON


def exchange_entries(
    member: Member, start: datetime.date | None, end: datetime.date | None
) -> Iterator[Entry]:
    """Completed exchanges the member gave or received, on the day they met: one query.
    A one-to-one with a colleague is participatory (NMC: learning with others)."""
    exchanges = Exchange.objects.filter(Q(giver=member) | Q(receiver=member), state=State.COMPLETED)
    if start:
        exchanges = exchanges.filter(met_on__gte=start)
    if end:
        exchanges = exchanges.filter(met_on__lte=end)
    rows = exchanges.values_list(
        "pk",
        "giver_id",
        "met_on",
        "minutes",
        "meeting_place",
        "listing__format",
        "listing__category",
        "listing__title",
    )
    categories = dict(Listing.Category.choices)
    for pk, giver_id, met_on, minutes, place, listing_format, category, title in rows:
        if met_on is None or minutes is None:
            continue  # never so once completed (database checks)
        yield Entry(
            source="exchange",
            source_id=pk,
            on=met_on,
            minutes=minutes,
            role=Role.GAVE if giver_id == member.pk else Role.RECEIVED,
            format=_exchange_format(listing_format, place),
            topic=f"{categories.get(category, category)}: {title}",
            participatory=True,
            url=f"/exchanges/{pk}/",
        )


def partner_exchange_entries(
    member: Member, start: datetime.date | None, end: datetime.date | None
) -> Iterator[Entry]:
    """Completed exchanges with members of partner networks that those networks hosted
    (an exchange on a partner's listing): one query here and one per hosting network.
    Keyed by the link between the networks, whose id is unique across all of them."""
    categories = dict(Listing.Category.choices)
    for partner in partner_exchanges(member=member, network=network_current()):
        exchange, host = partner.exchange, partner.network
        met_on, minutes = exchange.met_on, exchange.minutes
        if exchange.state != State.COMPLETED or met_on is None or minutes is None:
            continue
        if (start and met_on < start) or (end and met_on > end):
            continue
        category = categories.get(exchange.listing.category, exchange.listing.category)
        yield Entry(
            source="partner_exchange",
            source_id=partner.link_id,
            on=met_on,
            minutes=minutes,
            # The partner's member is the side with no id in the host's schema.
            role=Role.GAVE if exchange.giver_id is None else Role.RECEIVED,
            format=_exchange_format(exchange.listing.format, exchange.meeting_place),
            topic=_("%(topic)s (with %(network)s)")
            % {"topic": f"{category}: {exchange.listing.title}", "network": host.name},
            participatory=True,
            url=f"/exchanges/partner/{host.slug}/{exchange.pk}/",
        )


def project_entries(
    member: Member, start: datetime.date | None, end: datetime.date | None
) -> Iterator[Entry]:
    """Hours a project's lead confirmed the member gave, on the day given (the day of the
    confirmation for the few kept before days were): one query. QI work is done with a
    team, so participatory."""
    confirmations = HoursConfirmation.objects.filter(volunteer__member=member)
    day = Q(worked_on__isnull=False)
    if start:
        confirmations = confirmations.filter(
            (day & Q(worked_on__gte=start)) | (~day & Q(created_at__date__gte=start))
        )
    if end:
        confirmations = confirmations.filter(
            (day & Q(worked_on__lte=end)) | (~day & Q(created_at__date__lte=end))
        )
    rows = confirmations.values_list(
        "pk",
        "worked_on",
        "created_at",
        "minutes",
        "volunteer__project_id",
        "volunteer__project__title",
    )
    for pk, worked_on, created_at, minutes, project_id, title in rows:
        yield Entry(
            source="project",
            source_id=pk,
            on=worked_on or created_at.date(),
            minutes=minutes,
            role=Role.GAVE,
            format="",
            topic=_("QI project: %(title)s") % {"title": title},
            participatory=True,
            url=f"/projects/{project_id}/",
        )


def session_entries(
    member: Member, start: datetime.date | None, end: datetime.date | None
) -> Iterator[Entry]:
    """Group sessions the member gave or attended, settled through the ledger: two queries.
    Teaching a group and learning in one are participatory; an online session is virtual
    and a hybrid one says nothing of how this member took part."""
    formats: dict[str, str] = {
        SessionFormat.IN_PERSON: Format.IN_PERSON,
        SessionFormat.ONLINE: Format.VIRTUAL,
    }
    records = member_session_record(
        member=member, start=start or datetime.date.min, end=end or datetime.date.max
    )
    for record in records:
        yield Entry(
            source="session",
            source_id=record.session_id,
            on=record.date,
            minutes=record.minutes,
            role=Role.GAVE if record.role == "gave" else Role.RECEIVED,
            format=formats.get(record.format, ""),
            topic=_("Group session: %(title)s") % {"title": record.title},
            participatory=True,
            url=f"/sessions/{record.session_id}/",
        )


def gift_entries(
    member: Member, start: datetime.date | None, end: datetime.date | None
) -> Iterator[Entry]:
    """Credit the member gave or was given: listed as "gift", never CPD hours (giving
    credit is not learning). One query."""
    for line in member_gifts(member=member, start=start, end=end):
        topic = (
            _("Gift to %(whom)s") if line.direction == "given" else _("Gift from %(whom)s")
        ) % {"whom": line.counterpart}
        yield Entry(
            source="gift",
            source_id=line.gift_id,
            on=timezone.localdate(line.created_at),
            minutes=line.minutes,
            role=Role.GIFT,
            format="",
            topic=topic,
            participatory=False,
            counts=False,
        )


# The sources, by the name their entries carry. Add one line per contributing app.
SOURCES: dict[str, Source] = {
    "exchange": exchange_entries,
    "partner_exchange": partner_exchange_entries,
    "project": project_entries,
    "session": session_entries,
    "gift": gift_entries,
}

"""Exchanges as they are shown, read with SQL written once: the exchange whole, what
`Exchange.objects.shown()` reads of its listing (id, owner, kind, title, category,
format) and its two sides' names, into instances as the ORM builds them.

Two reads share it: a member's unfinished exchanges, for the home
(`core.exchanges.selectors.member_exchanges_unfinished`), and one exchange with whether
either side blocked the other, for its page and every action on it
(`core.exchanges.services.access_exchange`). The ORM spent 0.8 ms of CPU building and
compiling each on every such page, to run it in 0.1. The exchange's columns come in its
model's order, then the listing's (also in its model's order) and the sides' names; from_db
takes them so, and tests hold the exchange's to the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.listings.models import Listing
from core.members.selectors import member_named
from kernel.db import instance_from_row

from .models import Exchange

_EXCHANGES_SHOWN = """
SELECT exchange.id, exchange.listing_id, exchange.giver_id, exchange.receiver_id,
       exchange.remote_network_id, exchange.remote_member_id, exchange.remote_name,
       exchange.state, exchange.minutes, exchange.meeting_at, exchange.meeting_place,
       exchange.video_link, exchange.meeting_sequence, exchange.met_on,
       exchange.dispute_reason, exchange.created_at, exchange.updated_at,
       exchange.recorded_at, exchange.completed_at, exchange.reminded_at,
       listing.owner_id, listing.kind, listing.title, listing.category, listing.format,
       giver.full_name, receiver.full_name{also}
  FROM exchanges_exchange exchange
  JOIN listings_listing listing ON listing.id = exchange.listing_id
  LEFT JOIN members_member giver ON giver.id = exchange.giver_id
  LEFT JOIN members_member receiver ON receiver.id = exchange.receiver_id
 WHERE {which}
"""
# A member's exchanges neither final nor disputed, most recently active first.
UNFINISHED_EXCHANGES = _EXCHANGES_SHOWN.format(
    also="",
    which="""(exchange.giver_id = %(member)s OR exchange.receiver_id = %(member)s)
   AND exchange.state <> ALL(%(finished)s)
 ORDER BY exchange.updated_at DESC, exchange.id DESC""",
)
# One exchange, and whether either side blocked the other (false when a side is not a
# member here: a partner network's member is one by id and name alone).
EXCHANGE_SHOWN = _EXCHANGES_SHOWN.format(
    also=""",
       EXISTS (SELECT FROM members_block block
                WHERE (block.blocker_id = exchange.giver_id
                       AND block.blocked_id = exchange.receiver_id)
                   OR (block.blocker_id = exchange.receiver_id
                       AND block.blocked_id = exchange.giver_id)) AS blocked""",
    which="exchange.id = %(exchange)s",
)
LISTING_COLUMNS = ["id", "owner_id", "kind", "title", "category", "format"]
_OWN = len(Exchange._meta.concrete_fields)


def exchange_from_row(row: Sequence[Any]) -> Exchange:
    """The exchange a row of these reads holds, its listing and sides attached."""
    exchange = instance_from_row(Exchange, row[:_OWN])
    owner_id, kind, title, category, format, giver_name, receiver_name = row[_OWN : _OWN + 7]
    exchange.listing = instance_from_row(
        Listing, [exchange.listing_id, owner_id, kind, title, category, format], LISTING_COLUMNS
    )
    if exchange.giver_id is not None:
        exchange.giver = member_named(exchange.giver_id, giver_name)
    if exchange.receiver_id is not None:
        exchange.receiver = member_named(exchange.receiver_id, receiver_name)
    return exchange

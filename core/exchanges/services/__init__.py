"""The exchange lifecycle: respond, accept or decline, agree a time, record hours, confirm
or dispute, settle. Credit moves once, on completion, through the ledger.

Each service locks the exchange row (`SELECT ... FOR UPDATE`) before checking its state,
so two clicks at the same moment run one after the other and the second is refused as an
illegal move. Completion posts one ledger transfer keyed `exchange:<id>:complete`, so even
a retried request cannot move credit twice.

A member of a partner network acts on an exchange hosted here through the same services:
the view enters this network's schema and passes `actor_network`, their own network.

The package splits them by concern: `lifecycle` (the moves), `conversation` (messages and
thanks), `scheduled` (beat's work), `rules` (the network's settings), `closure` (a member
leaving), `access` (fetching
what a member may see) and `common` (what they share).
"""

from .access import access_exchange, access_partner_exchange, access_partner_network
from .closure import exchanges_close_for_member
from .common import (
    MOVES,
    ExchangeRefused,
    Side,
    move_allowed,
    owner_side,
    side_of,
    sides_blocked,
)
from .conversation import message_hide_step, message_post, thanks_give
from .lifecycle import (
    exchange_accept,
    exchange_agree,
    exchange_cancel,
    exchange_confirm,
    exchange_decline,
    exchange_dispute,
    exchange_propose,
    exchange_record_hours,
    exchange_respond,
    exchange_settle,
)
from .rules import (
    exchange_settings,
    exchange_settings_update,
    exchanges_export_record,
    safeguarding_contact_set,
)
from .scheduled import exchanges_auto_confirm, exchanges_remind_meetings

__all__ = [
    "MOVES",
    "ExchangeRefused",
    "Side",
    "access_exchange",
    "access_partner_exchange",
    "access_partner_network",
    "exchange_accept",
    "exchange_agree",
    "exchange_cancel",
    "exchange_confirm",
    "exchange_decline",
    "exchange_dispute",
    "exchange_propose",
    "exchange_record_hours",
    "exchange_respond",
    "exchange_settings",
    "exchange_settings_update",
    "exchange_settle",
    "exchanges_auto_confirm",
    "exchanges_close_for_member",
    "exchanges_export_record",
    "exchanges_remind_meetings",
    "message_hide_step",
    "message_post",
    "move_allowed",
    "owner_side",
    "safeguarding_contact_set",
    "side_of",
    "sides_blocked",
    "thanks_give",
]

"""Group sessions: one giver, many receivers; and calendars.

`lifecycle` has the moves (post, change, cancel, book, leave, mark attendance, confirm,
dispute, an organiser settling), `settlement` the credit rule and the one transfer per
session, `scheduled` beat's work (auto-confirm, reminders), `calendar` the private feed's
secret, `closure` a member leaving, `common` what they share (`MOVES`: who may do what when).
"""

from .calendar import calendar_feed_renew, calendar_feed_revoke, secret_hash
from .closure import sessions_close_for_member
from .common import (
    LATEST_KEY,
    LATEST_SECONDS,
    MOVES,
    Role,
    SessionRefused,
    move_allowed,
    role_of,
    session_event,
)
from .lifecycle import (
    SETTLE_OUTCOMES,
    attendance_confirm,
    attendance_dispute,
    attendance_mark,
    attendance_settle,
    booking_cancel,
    booking_create,
    session_cancel,
    session_create,
    session_update,
)
from .scheduled import sessions_auto_confirm, sessions_remind
from .settlement import Split, estimated_share, split

__all__ = [
    "LATEST_KEY",
    "LATEST_SECONDS",
    "MOVES",
    "SETTLE_OUTCOMES",
    "Role",
    "SessionRefused",
    "Split",
    "attendance_confirm",
    "attendance_dispute",
    "attendance_mark",
    "attendance_settle",
    "booking_cancel",
    "booking_create",
    "calendar_feed_renew",
    "calendar_feed_revoke",
    "estimated_share",
    "move_allowed",
    "role_of",
    "secret_hash",
    "session_cancel",
    "session_create",
    "session_event",
    "session_update",
    "sessions_auto_confirm",
    "sessions_close_for_member",
    "sessions_remind",
    "split",
]

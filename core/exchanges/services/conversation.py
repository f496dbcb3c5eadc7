"""The exchange's thread, the thanks after it, and an organiser hiding a message."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.audit.services import audit_record
from core.exchanges.models import Exchange, Message, State, Thanks
from core.members.models import Member
from core.notifications.models import Kind
from kernel.db import durable_service
from kernel.errors import NotFound, PermissionDenied
from tenants.models import Network

from .common import (
    ExchangeRefused,
    Side,
    clean_text,
    display_name,
    locked,
    message_write,
    notify,
    organiser_message_write,
    other_side,
    require_move,
    require_not_blocked,
    side_of,
)


@durable_service
def message_post(
    *, actor: Member, exchange: Exchange, body: str, actor_network: Network | None = None
) -> Message:
    """Write in the exchange's thread: its two sides, and organisers once it is disputed."""
    body = clean_text(body, name="message", limit=4000)
    exchange = locked(exchange.pk)
    side = side_of(exchange, actor, actor_network)
    if side is None:
        if (
            actor_network is None
            and actor.has_perm("exchanges.settle_dispute")
            and (exchange.state == State.DISPUTED)
        ):
            return organiser_message_write(exchange, actor, body)
        raise NotFound(_("No such exchange."))
    require_not_blocked(exchange, _("send messages"))
    message = message_write(exchange, side, actor, actor_network, body)
    notify(
        exchange,
        other_side(side),
        kind=Kind.EXCHANGE_MESSAGE,
        event=f"message:{message.pk}",
        title=f"New message from {message.author_name}",
        body=body[:500],
    )
    return message


@durable_service
def thanks_give(
    *, actor: Member, exchange: Exchange, text: str, actor_network: Network | None = None
) -> Thanks:
    """After completion, each side may thank the other once; it shows on their profile."""
    text = clean_text(text, name="thank-you", limit=500)
    exchange = locked(exchange.pk)
    side = require_move(exchange, "thanks", actor, actor_network)
    require_not_blocked(exchange, _("say thank you"))
    if exchange.thanks.filter(side=side).exists():
        raise ExchangeRefused(_("You have already said thank you for this exchange."))
    recipient = exchange.receiver if side == Side.GIVER else exchange.giver
    return Thanks.objects.create(
        exchange=exchange,
        side=side,
        author_name=display_name(actor, actor_network),
        recipient=recipient,
        text=text,
    )


def message_hide_step(*, actor: Member, message: Message, reason: str) -> Message:
    """An organiser hides a message from the exchange's thread, saying why (audited): both
    sides see that a message was hidden, not what it said. Inside the caller's
    transaction (an organiser acting on a report hides it and closes the report in one)."""
    if not actor.has_perm("safety.moderate_report"):
        raise PermissionDenied(_("Only organisers can hide messages."))
    reason = clean_text(reason, name="reason", limit=500)
    message = Message.objects.select_for_update().get(pk=message.pk)
    before = {"hidden_reason": message.hidden_reason}
    message.hidden_reason = reason
    message.save(update_fields=["hidden_reason"])
    audit_record(
        actor=actor,
        verb="message.hide",
        target=message,
        before=before,
        after={"hidden_reason": reason},
        reason=reason,
    )
    return message

"""Work beat does in each network: auto-confirming unanswered hours and reminding
members of meetings."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from core.exchanges.models import Exchange, State
from core.notifications.models import Kind
from kernel.db import durable_service
from kernel.errors import ApplicationError
from ledger.services import InsufficientCredit, transfers_create

from .common import Side, locked, meeting_time_text, notify
from .lifecycle import (
    exchange_completion_record,
    exchange_credit_move_for_receiver,
    local_transfer_request,
    receiver_short,
    to_dispute,
)
from .rules import exchange_settings


def exchanges_auto_confirm(*, now: datetime.datetime | None = None) -> int:
    """Confirm hours left unanswered for the network's set number of days. The exchanges
    between this network's members are paid together, `AUTO_CONFIRM_BATCH` to a
    transaction and one ledger call (`transfers_create`); one that cannot be paid (the
    receiver lacks the credit) goes to an organiser as a dispute instead, and the others
    are paid all the same. An exchange with a partner network's member is paid on its own
    (through the federation ledger). Returns how many completed."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=exchange_settings().auto_confirm_days)
    # Never before the agreed meeting: hours recorded ahead of it wait for it.
    due = list(
        Exchange.objects.filter(state=State.RECORDED, recorded_at__lte=cutoff)
        .exclude(meeting_at__gt=now)
        .order_by("pk")
        .values_list("pk", "remote_network_id")
    )
    local = [pk for pk, remote in due if remote is None]
    completed = sum(
        _auto_confirm_batch(local[start : start + AUTO_CONFIRM_BATCH])
        for start in range(0, len(local), AUTO_CONFIRM_BATCH)
    )
    return completed + sum(_auto_confirm(pk) for pk, remote in due if remote is not None)


AUTO_CONFIRM_BATCH = 200


@durable_service
def _auto_confirm_batch(exchange_ids: list[int]) -> int:
    """Confirm the hours of exchanges between this network's members with one ledger call;
    send those that cannot be paid to an organiser. How many completed."""
    exchanges = list(
        Exchange.objects.select_for_update(of=("self",))
        .select_related("listing", "giver", "receiver")
        .filter(pk__in=exchange_ids, state=State.RECORDED)  # not confirmed or disputed meanwhile
        .order_by("pk")
    )
    payable = [e for e in exchanges if e.giver is not None and e.receiver is not None]
    outcomes = transfers_create(
        transfers=[local_transfer_request(exchange, actor=None) for exchange in payable]
    )
    completed = 0
    for exchange, outcome in zip(payable, outcomes, strict=True):
        refusal: ApplicationError | None = outcome.refusal
        if refusal is None:
            exchange_completion_record(exchange)
            completed += 1
            continue
        if isinstance(refusal, InsufficientCredit):
            refusal = receiver_short(exchange, refusal)
        to_dispute(exchange, f"Automatic confirmation failed: {refusal.message}")
    for exchange in exchanges:
        if exchange not in payable:  # a side's membership is gone: the single path says why
            completed += _confirm_or_dispute(exchange)
    return completed


@durable_service
def _auto_confirm(exchange_id: int) -> bool:
    """Confirm one exchange's hours, or send it to an organiser; whether it completed."""
    exchange = locked(exchange_id)
    if exchange.state != State.RECORDED:
        return False  # confirmed or disputed meanwhile
    return _confirm_or_dispute(exchange)


def _confirm_or_dispute(exchange: Exchange) -> bool:
    try:
        with transaction.atomic():
            exchange_credit_move_for_receiver(exchange, actor=None)
    except ApplicationError as refusal:
        exchange.refresh_from_db()
        to_dispute(exchange, f"Automatic confirmation failed: {refusal.message}")
        return False
    return True


def exchanges_remind_meetings(*, now: datetime.datetime | None = None) -> int:
    """Remind both sides of a meeting in the next 24 hours, once per arranged time."""
    now = now or timezone.now()
    due = Exchange.objects.filter(
        state=State.SCHEDULED,
        reminded_at__isnull=True,
        meeting_at__gt=now,
        meeting_at__lte=now + datetime.timedelta(hours=24),
    ).values_list("pk", flat=True)
    return sum(_remind(exchange_id, now=now) for exchange_id in list(due))


@durable_service
def _remind(exchange_id: int, *, now: datetime.datetime) -> bool:
    """Remind both sides of one meeting, unless done already; whether it reminded."""
    exchange = locked(exchange_id)
    if exchange.reminded_at is not None or exchange.meeting_at is None:
        return False
    when = meeting_time_text(exchange.meeting_at)
    for side in (Side.GIVER, Side.RECEIVER):
        notify(
            exchange,
            side,
            kind=Kind.MEETING_REMINDER,
            event=f"reminder:{exchange.meeting_at.timestamp()}",
            title=f"Reminder: “{exchange.listing.title}” on {when}",
            body=exchange.meeting_place,
        )
    exchange.reminded_at = now
    exchange.save(update_fields=["reminded_at"])
    return True

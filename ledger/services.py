"""Writing to the ledger. Every movement of credit in Hexitime goes through here."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.audit.services import audit_record
from core.members.models import Member
from kernel.db import (
    RETRYABLE,
    actor_label_erasure,
    connection,
    durable_service,
    instance_from_row,
    sqlstate,
)
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.text import plain_text

from .models import GIFT_MINUTES, Account, Transfer

logger = logging.getLogger(__name__)
T = TypeVar("T")

_MAX_ATTEMPTS = 6
# The column names come from the model; the values are parameters.
_POST_SQL = (
    "SELECT "  # noqa: S608
    + ", ".join(str(f.column) for f in Transfer._meta.concrete_fields)
    + " FROM ledger_post(%s, %s, %s, %s, %s, %s, %s::bigint[], %s::bigint[])"
)
_POST_BATCH_SQL = (
    "SELECT o_outcome, o_code, o_message, o_detail, "  # noqa: S608
    + ", ".join(f"(o_transfer).{f.column}" for f in Transfer._meta.concrete_fields)
    + " FROM ledger_post_batch(%s::text[], %s::text[], %s::text[], %s::bigint[], %s::text[],"
    " %s::uuid[], %s::integer[], %s::bigint[], %s::bigint[])"
)


class LedgerError(ApplicationError):
    pass


class InsufficientCredit(LedgerError):
    """The payer's balance would fall below its floor. Nothing was written."""


class IdempotencyConflict(LedgerError):
    """The key was used before for a transfer with different legs."""


class TransferRefusedAtCommit(LedgerError):
    """The database's commit-time check refused the transfer (its legs must sum to zero).
    Nothing was written."""


# The deferred balance check's own refusal on PostgreSQL, and what Citus makes of any
# refusal at commit on a worker (the worker's message stays in the worker's log).
_DEFERRED_CHECK_PREFIX = "ledger transfer "
_CITUS_COMMIT_REFUSED = re.compile(r"could not commit transaction for shard \d+")


@dataclass(frozen=True)
class Leg:
    account: Account
    minutes: int


@dataclass(frozen=True)
class TransferRequest:
    """One transfer of a batch for `transfers_create`: the arguments of `transfer_create`."""

    idempotency_key: str
    legs: Sequence[Leg]
    kind: Transfer.Kind
    memo: str = ""
    actor: Member | None = None
    reverses: Transfer | None = None


@dataclass(frozen=True)
class TransferOutcome:
    """What became of one transfer of a batch. Exactly one of:
    posted now (`transfer`, `repeated` false); posted before under its key (`transfer` is
    that first transfer, `repeated` true: nothing moved now); refused (`refusal` is the
    `LedgerError` that `transfer_create` would have raised, `transfer` None)."""

    request: TransferRequest
    transfer: Transfer | None
    repeated: bool = False
    refusal: LedgerError | None = None


def transfer_create(
    *,
    idempotency_key: str,
    legs: Sequence[Leg],
    kind: Transfer.Kind,
    memo: str = "",
    actor: Member | None = None,
    reverses: Transfer | None = None,
) -> Transfer:
    """Post a transfer with one statement (`ledger_post()`); return it.

    Locks the accounts in id order, refuses to take any account below its floor
    (`InsufficientCredit`, nothing written), and is idempotent: the same key with the same
    legs returns the existing transfer, with different legs raises `IdempotencyConflict`.
    Always posts inside a transaction: inside a caller's it joins it (the caller decides
    about retries); on its own it opens one and retries deadlocks, serialization failures
    and lost connections, which the idempotency key makes safe. A failure of the deferred
    balance check at commit is a `LedgerError`, on plain PostgreSQL and on Citus alike.
    """
    request = TransferRequest(
        idempotency_key=idempotency_key,
        legs=legs,
        kind=kind,
        memo=memo,
        actor=actor,
        reverses=reverses,
    )
    refusal = _clearing_refusal(request)
    if refusal is not None:
        raise refusal
    actor_id, actor_label = _actor(actor)
    params = [
        idempotency_key,
        kind,
        memo,
        actor_id,
        actor_label,
        reverses.pk if reverses else None,
        _int_array(leg.account.pk for leg in legs),
        _int_array(leg.minutes for leg in legs),
    ]

    def post() -> Transfer:
        # Always inside a transaction, never in autocommit: the guard flag ledger_post()
        # raises with SET LOCAL reaches a Citus worker only inside one. In the caller's
        # transaction this is a savepoint, so a refusal leaves it usable; on its own it is
        # a transaction of this one statement, deferred checks run at its commit.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_POST_SQL, params)
            row = cursor.fetchone()
        return instance_from_row(Transfer, row)

    try:
        return with_retries(post)
    except DatabaseError as error:
        raise ledger_error_translate(error) from error


def transfers_create(*, transfers: Sequence[TransferRequest]) -> list[TransferOutcome]:
    """Post many independent transfers in one statement (`ledger_post_batch()`); return
    one `TransferOutcome` per request, in order.

    Each transfer keeps every guarantee of `transfer_create` and has its own outcome: a
    refused one (short of credit, a key reused with other legs, malformed legs, the
    clearing account) writes nothing and does not stop the others, without savepoints.
    The accounts of the whole batch are locked once, in id order (the one order), and each
    transfer is decided on the balances the earlier ones leave, so two transfers of one
    batch may spend what the first brought in. A key given twice in one batch posts once
    (the second is `repeated`). Transactions as `transfer_create`: inside the caller's it
    joins it; on its own it opens one and retries. Meant for tens to a few thousand
    transfers a call: all their accounts stay locked until the commit."""
    outcomes: list[TransferOutcome | None] = [None] * len(transfers)
    sent: list[int] = []
    for index, request in enumerate(transfers):
        refusal = _clearing_refusal(request)
        if refusal is not None:
            outcomes[index] = TransferOutcome(request=request, transfer=None, refusal=refusal)
        else:
            sent.append(index)
    if sent:
        requests = [transfers[index] for index in sent]
        actors = [_actor(request.actor) for request in requests]
        params = [
            _text_array(request.idempotency_key for request in requests),
            _text_array(request.kind for request in requests),
            _text_array(request.memo for request in requests),
            "{" + ",".join("NULL" if i is None else str(int(i)) for i, _label in actors) + "}",
            _text_array(label for _actor_id, label in actors),
            "{" + ",".join(str(r.reverses.pk) if r.reverses else "NULL" for r in requests) + "}",
            _int_array(len(request.legs) for request in requests),
            _int_array(leg.account.pk for request in requests for leg in request.legs),
            _int_array(leg.minutes for request in requests for leg in request.legs),
        ]

        def post() -> list[tuple[Any, ...]]:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(_POST_BATCH_SQL, params)
                return cursor.fetchall()

        try:
            rows = with_retries(post)
        except DatabaseError as error:
            raise ledger_error_translate(error) from error
        for index, (outcome, code, message, detail, *fields) in zip(sent, rows, strict=True):
            request = transfers[index]
            if outcome == "refused":
                refusal = ledger_refusal(code, message, detail)
                outcomes[index] = TransferOutcome(request=request, transfer=None, refusal=refusal)
            else:
                outcomes[index] = TransferOutcome(
                    request=request,
                    transfer=instance_from_row(Transfer, fields),
                    repeated=outcome == "existing",
                )
    return [outcome for outcome in outcomes if outcome is not None]


def _clearing_refusal(request: TransferRequest) -> LedgerError | None:
    if request.kind != Transfer.Kind.FEDERATION and any(
        leg.account.kind == Account.Kind.CLEARING for leg in request.legs
    ):
        # The clearing account mirrors the network's federation position; only
        # federated_transfer_create moves both together.
        return LedgerError(_("Only exchanges with other networks move the clearing account."))
    return None


def _actor(actor: Member | None) -> tuple[int | None, str]:
    return (actor.pk, str(actor)) if actor is not None else (None, "system")


def _int_array(values: Iterable[int]) -> str:
    """A PostgreSQL array literal of whole numbers. psycopg adapts a list element by
    element in Python: passing two lists cost about 70 of a posting's 390 microseconds of
    client CPU (measured on the bench machine), a literal a few."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def _text_array(values: Iterable[str]) -> str:
    """A PostgreSQL array literal of strings, every element quoted (so NULL, commas,
    braces, quotes and backslashes are only text), for the same reason as `_int_array`."""
    return (
        "{"
        + ",".join(
            '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
        )
        + "}"
    )


def with_retries(operation: Callable[[], T]) -> T:
    """Run a ledger operation, retrying deadlocks, serialization failures and lost
    connections when it owns its transaction. Operations must be idempotent."""
    if connection.in_atomic_block:
        return operation()  # the caller's transaction; the caller retries the whole of it
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return operation()
        except (OperationalError, IntegrityError) as error:
            lost = _connection_lost(error)
            if attempt == _MAX_ATTEMPTS or not (sqlstate(error) in RETRYABLE or lost):
                raise
            logger.info("ledger: retrying after %s (attempt %d)", sqlstate(error) or error, attempt)
            if lost:
                connection.close()
            time.sleep(0.002 * 2**attempt)
    raise AssertionError("unreachable")


def _connection_lost(error: BaseException) -> bool:
    """The server went away (killed backend, restart, network): whether the transaction
    committed is unknown, and retrying with the same idempotency key finds out."""
    code = sqlstate(error)
    raw = connection.connection
    return (
        # psycopg reports a connection that died under it without any SQLSTATE.
        (code is None and isinstance(error, OperationalError))
        or (code or "").startswith("08")
        or code in {"57P01", "57P02", "57P03"}
        or raw is None
        or raw.closed
        or raw.broken
    )


def ledger_error_translate(error: DatabaseError) -> Exception:
    """The domain error a database error from posting means (`InsufficientCredit`,
    `IdempotencyConflict`, `TransferRefusedAtCommit`, `LedgerError`), or `error` itself
    when it means none of them. A refusal at commit reads the same on plain PostgreSQL
    and in Citus's wrapped form."""
    code = sqlstate(error)
    if code in {"HX001", "HX002", "HX003", "HX004"}:
        detail = getattr(getattr(error.__cause__, "diag", None), "message_detail", None)
        return ledger_refusal(code, str(error.__cause__).splitlines()[0], detail)
    constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
    if code == "23505" and constraint == "ledger_transfer_reversed_once":
        return LedgerError(_("This transfer has already been corrected."))
    message = str(error.__cause__ or error)
    if (code == "23514" and message.startswith(_DEFERRED_CHECK_PREFIX)) or (
        code == "XX000" and _CITUS_COMMIT_REFUSED.search(message)
    ):
        return TransferRefusedAtCommit(
            _(
                "The ledger refused this transfer when saving it: its entries did not balance. "
                "Nothing was written."
            )
        )
    return error


def ledger_refusal(code: str, message: str, detail: str | None) -> LedgerError:
    """The domain error of a posting function's refusal (HX001-HX004): raised by
    `ledger_post()`, or one transfer's row of `ledger_post_batch()`."""
    if code == "HX003":
        account_id, balance, floor, change = (int(v) for v in (detail or "").split(","))
        return InsufficientCredit(
            _insufficient_message(balance=balance, floor=floor, needed=-change),
            account_id=account_id,
            balance=balance,
            floor=floor,
            needed=-change,
        )
    if code == "HX002":
        return IdempotencyConflict(message)
    return LedgerError(message)


def _insufficient_message(*, balance: int, floor: int, needed: int) -> str:
    available = max(balance - floor, 0)
    return _(
        "You have %(left)s of credit, and this needs %(needed)s. Offer some help to earn "
        "more: every hour you give earns an hour of credit."
    ) % {"left": minutes_as_text(available), "needed": minutes_as_text(needed)}


def minutes_as_text(minutes: int) -> str:
    """`150` -> `2 hours 30 minutes`; plain words for members, in their language."""
    hours, rest = divmod(abs(minutes), 60)
    parts = []
    if hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours})
    if rest or not hours:
        parts.append(ngettext("%(count)s minute", "%(count)s minutes", rest) % {"count": rest})
    amount = " ".join(parts)
    return _("minus %(amount)s") % {"amount": amount} if minutes < 0 else amount


@durable_service
def transfer_reverse(*, transfer: Transfer, actor: Member, reason: str) -> Transfer:
    """An organiser corrects a transfer with a new, opposite one (entries are never
    edited), saying why; audited with the reason. Refused to anyone without
    `ledger.correct_transfer`, and without a reason. Idempotent: a transfer is reversed
    at most once, and a repeat returns that reversal without a second audit row (the
    original transfer's row is locked while this is decided). Refused like any transfer
    if an account no longer has the credit to give back. An exchange with another network
    is not reversed here: its federation position would no longer match the clearing
    account."""
    if not actor.has_perm("ledger.correct_transfer"):
        raise PermissionDenied(_("Only the network's organisers can correct a transfer."))
    reason = plain_text(
        reason,
        name="reason",
        limit=400,
        missing=_("Please say why this transfer is corrected."),
        refusal=LedgerError,
    )
    if transfer.kind == Transfer.Kind.FEDERATION:
        raise LedgerError(
            _(
                "An exchange with another network is corrected by an exchange back between the "
                "two networks."
            )
        )
    locked = Transfer.objects.select_for_update().filter(pk=transfer.pk).first()
    if locked is None:  # another network's transfer: this network's ledger has no such row
        raise NotFound(_("No such transfer."))
    transfer = locked
    existing = Transfer.objects.filter(reverses=transfer).first()
    if existing is not None:
        return existing
    legs = [
        Leg(entry.account, -entry.amount) for entry in transfer.entries.select_related("account")
    ]
    reversal = transfer_create(
        idempotency_key=f"reversal:{transfer.pk}",
        legs=legs,
        kind=Transfer.Kind.REVERSAL,
        memo=f"Correction of {transfer.get_kind_display().lower()}: {reason}",
        actor=actor,
        reverses=transfer,
    )
    audit_record(
        actor=actor,
        verb="ledger.correct",
        target=transfer,
        reason=reason,
        after={
            "reversal": str(reversal.pk),
            "legs": {str(leg.account.pk): leg.minutes for leg in legs},
        },
    )
    return reversal


def member_account(member: Member) -> Account:
    """The member's account, opened on first use (safe under concurrency)."""
    return account_for_owner(Account.Kind.MEMBER, member.pk)


def project_account(project_id: int) -> Account:
    return account_for_owner(Account.Kind.PROJECT, project_id, floor=0)


def account_for_owner(kind: Account.Kind, owner_id: int, floor: int = 0) -> Account:
    account = Account.objects.filter(kind=kind, owner_id=owner_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(kind=kind, owner_id=owner_id, floor=floor)
    except IntegrityError:
        return Account.objects.get(kind=kind, owner_id=owner_id)


def issuance_account() -> Account:
    return Account.objects.get(kind=Account.Kind.ISSUANCE)


def clearing_account() -> Account:
    return Account.objects.get(kind=Account.Kind.CLEARING)


def pot_account() -> Account:
    """The network's community pot (core.giving): created by migration, floor 0."""
    return Account.objects.get(kind=Account.Kind.POT)


def gift_grant(*, member: Member) -> Transfer:
    """Give a new member their two welcome credits from the network's issuance account.
    Once per member, however often it is called."""
    gift = _gift_request(member, issuance_account())
    return transfer_create(
        idempotency_key=gift.idempotency_key, legs=gift.legs, kind=gift.kind, memo=gift.memo
    )


def gifts_grant(*, members: Sequence[Member]) -> list[TransferOutcome]:
    """`gift_grant` for many members in one ledger call (`transfers_create`); one outcome
    per member, in order. Once per member, however often it is called."""
    issuance = issuance_account()
    return transfers_create(transfers=[_gift_request(member, issuance) for member in members])


def _gift_request(member: Member, issuance: Account) -> TransferRequest:
    return TransferRequest(
        idempotency_key=f"gift:{member.pk}",
        legs=[Leg(issuance, -GIFT_MINUTES), Leg(member_account(member), GIFT_MINUTES)],
        kind=Transfer.Kind.GIFT,
        memo="Welcome gift: two hours of credit",
    )


def closure_credit_return(*, member: Member) -> Transfer | None:
    """Settle a closing member's account with the network: a positive balance returns to
    the issuance account, a negative one (a network floor below zero) is written off by
    it, so the account ends at zero and stays, with its history, for the audit. Once per
    member (`closure:<member id>`); None when there is nothing to settle. Inside the
    caller's transaction, which locks the member first."""
    account = member_account(member)
    balance = Account.objects.get(pk=account.pk).balance
    if balance == 0:
        return None
    return transfer_create(
        idempotency_key=f"closure:{member.pk}",
        legs=[Leg(account, -balance), Leg(issuance_account(), balance)],
        kind=Transfer.Kind.CLOSURE,
        memo="Account closed: remaining credit returned to the network",
    )


def transfer_actor_labels_erase(*, actor_id: int, labels: Sequence[str], label: str) -> int:
    """Rename a closed account in the transfers it acted on: `actor_label` in `labels`
    (what it was called then) becomes `label`. Only that column can change (the append-only
    trigger's one exception); the id and the label must both match, since a network's
    transfers may carry a staff or partner member's id too. Inside the caller's
    transaction; returns how many were renamed."""
    with actor_label_erasure():
        return Transfer.objects.filter(actor_id=actor_id, actor_label__in=labels).update(
            actor_label=label
        )

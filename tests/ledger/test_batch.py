"""`transfers_create`: many independent transfers in one statement, each with its own
outcome, every guarantee of a single posting kept; and the leaner posting path's guards."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from django.db import DatabaseError, connections, transaction
from django_tenants.utils import tenant_context

from core.members.models import Member
from kernel.db import connection
from ledger.models import Account, Entry, Transfer
from ledger.selectors import ledger_audit
from ledger.services import (
    IdempotencyConflict,
    InsufficientCredit,
    LedgerError,
    Leg,
    TransferOutcome,
    TransferRequest,
    clearing_account,
    gift_grant,
    issuance_account,
    member_account,
    transfer_create,
    transfers_create,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from psycopg.errors import Diagnostic

    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)


def _exchange(key: str, payer: Account, payee: Account, minutes: int) -> TransferRequest:
    return TransferRequest(
        idempotency_key=key,
        kind=Transfer.Kind.EXCHANGE,
        memo=key,
        legs=[Leg(payer, -minutes), Leg(payee, minutes)],
    )


def _balances(*accounts: Account) -> list[int]:
    return [Account.objects.get(pk=account.pk).balance for account in accounts]


def _clean_audit() -> None:
    assert ledger_audit(network_name="network-a", federation_position=0).problems == []


@pytest.fixture
def people(network_a: Network, make_member: Callable[..., Member]) -> Iterator[list[Account]]:
    members = [make_member(network_a, full_name=name) for name in ("Alice", "Ben", "Cara")]
    with tenant_context(network_a):
        for member in members:
            gift_grant(member=member)
        yield [member_account(member) for member in members]


def test_a_batch_posts_each_transfer_with_its_own_outcome(people: list[Account]) -> None:
    alice, ben, cara = people
    posted_before = transfer_create(
        idempotency_key="before",
        kind=Transfer.Kind.EXCHANGE,
        legs=[Leg(alice, -15), Leg(ben, 15)],
    )
    outcomes = transfers_create(
        transfers=[
            _exchange("one", alice, ben, 30),
            _exchange("too-much", cara, alice, 500),  # Cara has 120 minutes
            _exchange("before", alice, ben, 15),  # posted before: nothing moves again
            _exchange("before", alice, cara, 15),  # the key reused with other legs
            _exchange("two", ben, cara, 45),
            _exchange("one", alice, ben, 30),  # the same key twice in one batch
            TransferRequest(
                idempotency_key="lopsided",
                kind=Transfer.Kind.EXCHANGE,
                legs=[Leg(alice, -15), Leg(ben, 20)],
            ),
            _exchange("clearing", clearing_account(), alice, 15),
        ]
    )
    assert [o.request.idempotency_key for o in outcomes] == [
        "one",
        "too-much",
        "before",
        "before",
        "two",
        "one",
        "lopsided",
        "clearing",
    ]
    one, short, again, conflict, two, one_again, lopsided, clearing = outcomes
    assert one.transfer is not None and not one.repeated and one.refusal is None
    assert two.transfer is not None and not two.repeated
    assert isinstance(short.refusal, InsufficientCredit) and short.transfer is None
    assert short.refusal.extra == {"account_id": cara.pk, "balance": 120, "floor": 0, "needed": 500}
    assert "You have 2 hours of credit" in short.refusal.message
    assert again.repeated and again.transfer is not None and again.transfer.pk == posted_before.pk
    assert isinstance(conflict.refusal, IdempotencyConflict)
    assert one_again.repeated and one_again.transfer is not None
    assert one_again.transfer.pk == one.transfer.pk
    assert type(lopsided.refusal) is LedgerError and "summing to zero" in lopsided.refusal.message
    assert type(clearing.refusal) is LedgerError and "clearing" in clearing.refusal.message
    assert _balances(alice, ben, cara) == [120 - 15 - 30, 120 + 15 + 30 - 45, 120 + 45]
    assert Transfer.objects.filter(idempotency_key__in=["too-much", "lopsided"]).count() == 0
    entries = Entry.objects.filter(transfer=one.transfer).order_by("account_id")
    assert sorted((e.account_id, e.amount) for e in entries) == sorted(
        [(alice.pk, -30), (ben.pk, 30)]
    )
    _clean_audit()


def test_a_repeated_batch_moves_nothing_and_returns_the_first_transfers(
    people: list[Account],
) -> None:
    alice, ben, cara = people
    batch = [_exchange("r1", alice, ben, 30), _exchange("r2", ben, cara, 60)]
    first = transfers_create(transfers=batch)
    again = transfers_create(transfers=batch)
    assert [o.repeated for o in first] == [False, False]
    assert [o.repeated for o in again] == [True, True]
    assert [o.transfer.pk for o in again] == [o.transfer.pk for o in first]  # type: ignore[union-attr]
    assert _balances(alice, ben, cara) == [90, 90, 180]
    _clean_audit()


def test_later_transfers_of_a_batch_spend_what_earlier_ones_brought_in(
    people: list[Account],
) -> None:
    """Running balances and sequences follow the batch's order, per account."""
    alice, ben, cara = people
    outcomes = transfers_create(
        transfers=[
            _exchange("in", alice, cara, 120),  # Cara 240
            _exchange("out", cara, ben, 200),  # possible only after "in"
            _exchange("again", cara, ben, 100),  # Cara has 40 left: refused
            _exchange("rest", cara, ben, 40),
        ]
    )
    assert [o.refusal is None for o in outcomes] == [True, True, False, True]
    assert _balances(alice, ben, cara) == [0, 360, 0]
    history = list(
        Entry.objects.filter(account=cara)
        .order_by("sequence")
        .values_list("sequence", "amount", "balance_after")
    )
    assert history == [(1, 120, 120), (2, 120, 240), (3, -200, 40), (4, -40, 0)]
    assert Account.objects.get(pk=cara.pk).last_sequence == 4
    _clean_audit()


def test_a_refused_transfer_leaves_the_others_posted_inside_a_callers_transaction(
    people: list[Account],
) -> None:
    alice, ben, cara = people
    with transaction.atomic():
        outcomes = transfers_create(
            transfers=[
                _exchange("a", alice, ben, 60),
                _exchange("b", ben, cara, 999),
                _exchange("c", cara, alice, 60),
            ]
        )
        Member.objects.filter(full_name="Alice").update(full_name="Alice A")  # still usable
    assert [o.refusal is None for o in outcomes] == [True, False, True]
    assert _balances(alice, ben, cara) == [120, 180, 60]
    _clean_audit()


def test_concurrent_batches_post_every_key_once_without_deadlock(network_a: Network) -> None:
    """Eight threads post overlapping batches (shared keys, random accounts, both
    directions) at once: each key posts once, nothing is lost, the audit is clean."""
    with tenant_context(network_a):
        accounts = []
        for n in range(12):
            account = Account.objects.create(kind="member", owner_id=10_000 + n)
            transfer_create(
                idempotency_key=f"fund:{n}",
                kind=Transfer.Kind.PROJECT_CREDIT,
                legs=[Leg(issuance_account(), -300), Leg(account, 300)],
            )
            accounts.append(account)
    errors: list[BaseException] = []
    results: list[tuple[str, bool, str | None]] = []

    def client(thread: int) -> None:
        rng = random.Random(thread)
        try:
            connection.set_tenant(network_a)
            for round_number in range(15):
                batch = []
                for _ in range(10):
                    # Keys repeat across threads: the same key always means the same legs.
                    key_rng = random.Random(n := rng.randrange(300))
                    payer, payee = key_rng.sample(accounts, 2)
                    batch.append(_exchange(f"k{n}", payer, payee, key_rng.choice([15, 60])))
                for outcome in transfers_create(transfers=batch):
                    refusal = type(outcome.refusal).__name__ if outcome.refusal else None
                    results.append((outcome.request.idempotency_key, outcome.repeated, refusal))
                del round_number
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors[:3]
    refusals = Counter(refusal for _, _, refusal in results)
    assert set(refusals) <= {None, "InsufficientCredit"}
    with tenant_context(network_a):
        posted = Counter(
            Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).values_list(
                "idempotency_key", flat=True
            )
        )
        fresh = Counter(key for key, repeated, refusal in results if not repeated and not refusal)
        assert fresh == posted  # each posted key was "posted" exactly once, never twice
        assert all(count == 1 for count in posted.values())
        _clean_audit()


def test_one_network_cannot_post_to_anothers_accounts_in_a_batch(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=alice)
        theirs = member_account(alice)
        issuance_a = issuance_account()
    with tenant_context(network_b):
        # Network A's account ids mean nothing here: unknown, or B's own different rows.
        foreign = Account(pk=theirs.pk + 1000, kind="member")
        (outcome,) = transfers_create(transfers=[_exchange("x", foreign, issuance_account(), 15)])
        assert type(outcome.refusal) is LedgerError
        assert "unknown ledger account" in outcome.refusal.message
        assert not Transfer.objects.filter(idempotency_key="x").exists()
    with tenant_context(network_a):
        assert _balances(theirs, issuance_a) == [120, -120]
        assert not Transfer.objects.filter(idempotency_key="x").exists()


def test_the_leaner_guards_still_refuse_every_hand_written_change(people: list[Account]) -> None:
    """Statement-level triggers and no foreign keys on entries: entries are still written
    only by the posting functions, balances and sequences change only there, transfers
    and entries stay append-only, and an account with history cannot be deleted."""
    alice, ben, _ = people
    gift = Transfer.objects.get(idempotency_key=f"gift:{alice.owner_id}")
    attempts = [
        (
            "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, sequence)"
            " VALUES (%s, %s, 5, 0, 9)",
            [gift.pk, alice.pk],
            "entries change only through",
        ),
        (
            "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after, sequence)"
            " SELECT transfer_id, account_id, amount, balance_after, 99 FROM ledger_entry WHERE"
            " false",
            [],
            "entries change only through",
        ),
        (
            "UPDATE ledger_account SET balance = balance + 15 WHERE id = %s",
            [alice.pk],
            "balances change only through",
        ),
        (
            "UPDATE ledger_account SET last_sequence = 7 WHERE id = %s",
            [alice.pk],
            "balances change only through",
        ),
        (
            "UPDATE ledger_account SET id = 99999 WHERE id = %s",
            [alice.pk],
            "balances change only through",
        ),
        ("UPDATE ledger_entry SET amount = 999 WHERE account_id = %s", [alice.pk], "append-only"),
        ("DELETE FROM ledger_entry WHERE account_id = %s", [alice.pk], "append-only"),
        ("DELETE FROM ledger_transfer WHERE id = %s", [gift.pk], "append-only"),
        ("DELETE FROM ledger_account WHERE id = %s", [alice.pk], "cannot be deleted"),
    ]
    for sql, params, message in attempts:
        with (
            pytest.raises(DatabaseError, match=message),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
    # Changing what the posting functions never name is still allowed.
    Account.objects.filter(pk=alice.pk).update(floor=-60)
    fresh = Account.objects.create(kind="member", owner_id=424242)
    Account.objects.filter(pk=fresh.pk).delete()  # no history: nothing refused
    assert _balances(alice, ben) == [120, 120]
    _clean_audit()


def test_the_audit_reports_entries_whose_transfer_or_account_is_missing(
    people: list[Account],
) -> None:
    """No foreign keys on entries: the audit re-checks both links."""
    alice, _, _ = people
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
        cursor.execute(
            "UPDATE ledger_entry SET account_id = 987654 WHERE account_id = %s", [alice.pk]
        )
        cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")
    problems = ledger_audit(network_name="network-a", federation_position=0).problems
    assert any(p.startswith("entry without its account") for p in problems), problems


def _plans(post: Callable[[], object], **settings: str) -> list[str]:
    """The plans of every statement `post()` runs, nested ones too, from auto_explain (sent
    as notices), with `settings` SET for the length of the call."""
    plans: list[str] = []
    raw = connection.connection
    assert raw is not None

    def keep(diagnostic: Diagnostic) -> None:
        plans.append(diagnostic.message_primary or "")

    explain = {
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_nested_statements": "on",
        "auto_explain.log_level": "notice",
    }
    with connection.cursor() as cursor:
        cursor.execute("LOAD 'auto_explain'")
        for setting, value in {**explain, **settings}.items():
            cursor.execute(f"SET {setting} = {value}")
    raw.add_notice_handler(keep)
    try:
        post()
    finally:
        raw.remove_notice_handler(keep)
        with connection.cursor() as cursor:
            for setting in {**explain, **settings}:
                cursor.execute(f"RESET {setting}")
    return plans


def test_a_batch_reads_by_index_whatever_the_statistics_say(people: list[Account]) -> None:
    """Tables this small, never analyzed, are read fastest by a sequential scan: the batch's
    lookups still use their indexes (0010), so they stay fast as the tables grow before
    autovacuum analyzes them."""
    alice, ben, cara = people
    outcomes: list[TransferOutcome] = []
    plans = _plans(
        lambda: outcomes.extend(
            transfers_create(
                transfers=[
                    _exchange("plain:1", alice, ben, 30),
                    _exchange("plain:2", ben, cara, 15),
                ]
            )
        )
    )
    assert [outcome.refusal for outcome in outcomes] == [None, None]
    read = [
        plan
        for plan in plans
        if "ledger_transfer t WHERE" in plan or "JOIN ledger_transfer" in plan
    ]
    assert read, plans
    assert not [plan for plan in plans if "Seq Scan on ledger_" in plan], plans


def test_postings_are_never_compiled_by_jit(people: list[Account]) -> None:
    """With every statement's cost over the JIT threshold, as stale statistics can make a
    posting's lookups look (0011), no statement of a posting is compiled, the deferred
    check at the commit included: the session's setting is what a caller's own statements
    get, and the posting functions keep JIT off."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_jit_available()")
        (available,) = cursor.fetchone()
    if not available:
        pytest.skip("this PostgreSQL has no JIT provider (llvmjit) to keep off")
    alice, ben, cara = people
    jit = {"jit": "on", "jit_above_cost": "0", "auto_explain.log_analyze": "on"}

    def count() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM ledger_entry")

    baseline = _plans(count, **jit)
    assert any("JIT:" in plan for plan in baseline), baseline  # the session's own are compiled
    single = _plans(
        lambda: transfer_create(
            idempotency_key="jit:1",
            kind=Transfer.Kind.EXCHANGE,
            legs=[Leg(alice, -15), Leg(ben, 15)],
        ),
        **jit,
    )
    batch = _plans(
        lambda: transfers_create(
            transfers=[_exchange("jit:2", alice, ben, 30), _exchange("jit:3", ben, cara, 15)]
        ),
        **jit,
    )
    nested = [plan for plan in single + batch if "ledger_" in plan and "ledger_post" not in plan]
    assert nested, single + batch
    assert not [plan for plan in nested if "JIT:" in plan], nested
    assert _balances(alice, ben, cara) == [75, 150, 135]

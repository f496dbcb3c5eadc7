"""Many clients at once, against the real PostgreSQL: no deadlock reaches a caller, no
update is lost, every key posts once, and killed connections leave nothing behind."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

import pytest
from django.db import connection as default_connection
from django.db import connections
from django.db.models import Sum
from django_tenants.utils import tenant_context

from core.members.models import Member
from kernel.db import connection
from ledger.models import Account, Entry, Transfer
from ledger.selectors import ledger_audit
from ledger.services import InsufficientCredit, Leg, issuance_account, transfer_create

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network

pytestmark = pytest.mark.django_db(transaction=True)

THREADS, TRANSFERS_PER_THREAD, ACCOUNTS = 8, 500, 20
START_MINUTES = 600


def _fund_accounts(network: Network) -> list[Account]:
    with tenant_context(network):
        accounts = []
        for n in range(ACCOUNTS):
            member = Member.objects.create_user(f"c{n}@nhs.net", None, full_name=f"C {n}")
            account = Account.objects.create(kind="member", owner_id=member.pk)
            transfer_create(
                idempotency_key=f"fund:{n}",
                kind=Transfer.Kind.PROJECT_CREDIT,
                legs=[Leg(issuance_account(), -START_MINUTES), Leg(account, START_MINUTES)],
            )
            accounts.append(account)
        return accounts


def _run_clients(
    network: Network, accounts: list[Account], outcomes: dict[str, str], replays: int = 0
) -> None:
    errors: list[BaseException] = []

    def client(thread: int) -> None:
        rng = random.Random(thread)
        try:
            connection.set_tenant(network)
            for i in range(TRANSFERS_PER_THREAD):
                payer, payee = rng.sample(accounts, 2)
                minutes = rng.choice([15, 30, 45, 60, 90, 120])
                key = f"c{thread}:{i}"
                legs = [Leg(payer, -minutes), Leg(payee, minutes)]
                for _ in range(1 + replays):
                    try:
                        transfer_create(idempotency_key=key, legs=legs, kind=Transfer.Kind.EXCHANGE)
                        outcomes[key] = "posted"
                    except InsufficientCredit:
                        outcomes[key] = "refused"
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors, errors[:3]
    assert len(outcomes) == THREADS * TRANSFERS_PER_THREAD


def _assert_consistent(network: Network, accounts: list[Account], outcomes: dict[str, str]) -> None:
    with tenant_context(network):
        posted = set(
            Transfer.objects.filter(kind=Transfer.Kind.EXCHANGE).values_list(
                "idempotency_key", flat=True
            )
        )
        assert posted == {key for key, outcome in outcomes.items() if outcome == "posted"}
        # No lost update: each balance is its starting credit plus its entries.
        moved = Counter(
            dict(
                Entry.objects.filter(transfer__kind=Transfer.Kind.EXCHANGE)
                .values("account")
                .annotate(total=Sum("amount"))
                .values_list("account", "total")
            )
        )
        for account in Account.objects.filter(pk__in=[a.pk for a in accounts]):
            assert account.balance == START_MINUTES + moved[account.pk]
            assert account.balance >= 0
        report = ledger_audit(network_name=network.slug, federation_position=None)
        assert report.clean, report.problems


def test_eight_clients_posting_and_replaying_at_once(make_network: Callable[..., Network]) -> None:
    network = make_network("busy")
    accounts = _fund_accounts(network)
    outcomes: dict[str, str] = {}
    _run_clients(network, accounts, outcomes, replays=2)  # every transfer sent three times
    assert Counter(outcomes.values())["posted"] > THREADS * TRANSFERS_PER_THREAD / 2
    _assert_consistent(network, accounts, outcomes)


def test_killed_connections_mid_transfer_leave_nothing_half_done(
    make_network: Callable[..., Network],
) -> None:
    network = make_network("unlucky")
    accounts = _fund_accounts(network)
    outcomes: dict[str, str] = {}
    stop = threading.Event()
    kills: list[int] = []

    def killer() -> None:
        # About 1% of the transfers: terminate a backend while it is inside ledger_post.
        with default_connection.cursor() as cursor:
            while not stop.is_set() and len(kills) < THREADS * TRANSFERS_PER_THREAD // 100:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    "   AND query LIKE '%%ledger_post%%' AND state <> 'idle'"
                    " ORDER BY random() LIMIT 1"  # any client, not the same one every time
                )
                killed = [row[0] for row in cursor.fetchall() if row[0]]
                kills.extend(killed)
                # After a kill, time for the victim to reconnect and retry: on a loaded
                # machine a transfer takes ~100 ms, and kills every 20 ms ran one client
                # out of its six attempts (a test of the load, not of the ledger).
                time.sleep(0.2 if killed else 0.02)
        connections.close_all()

    killer_thread = threading.Thread(target=killer)
    killer_thread.start()
    try:
        _run_clients(network, accounts, outcomes)
    finally:
        stop.set()
        killer_thread.join()
    assert kills, "the killer never caught a transfer in flight"
    _assert_consistent(network, accounts, outcomes)


def test_a_transfer_that_fails_half_way_leaves_nothing(
    make_network: Callable[..., Network], monkeypatch: pytest.MonkeyPatch
) -> None:
    network = make_network("halfway")
    accounts = _fund_accounts(network)[:2]
    with tenant_context(network), connection.cursor() as cursor:
        before = (Transfer.objects.count(), Entry.objects.count())
        # Sabotage the second leg: an entry check that fails only after the first leg and the
        # transfer row are written inside ledger_post.
        cursor.execute(
            "ALTER TABLE ledger_entry ADD CONSTRAINT sabotage CHECK (amount < 60) NOT VALID"
        )
        try:
            with pytest.raises(Exception, match="sabotage"):
                transfer_create(
                    idempotency_key="half",
                    kind=Transfer.Kind.EXCHANGE,
                    legs=[Leg(accounts[0], -90), Leg(accounts[1], 90)],
                )
        finally:
            cursor.execute("ALTER TABLE ledger_entry DROP CONSTRAINT sabotage")
        assert (Transfer.objects.count(), Entry.objects.count()) == before
        assert [a.balance for a in Account.objects.filter(pk__in=[a.pk for a in accounts])] == [
            START_MINUTES,
            START_MINUTES,
        ]

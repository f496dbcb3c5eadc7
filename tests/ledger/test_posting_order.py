"""Posting order is each account's entry `sequence`, never the entries' ids.

On Citus every node hands out its own identity range, and a network schema moved to
another node (`citus_schema_move`) gets smaller ids than before. These tests make ids
disagree with posting order on plain PostgreSQL the same way: the entry id's identity is
restarted below the ids already used, as on the node a schema moved to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django_tenants.utils import tenant_context

from kernel.db import connection
from ledger.models import Account, Entry, Transfer
from ledger.selectors import ledger_audit, member_statement
from ledger.services import Leg, gift_grant, member_account, transfer_create

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network


def _exchange(payer: Member, payee: Member, minutes: int, key: str) -> Transfer:
    return transfer_create(
        idempotency_key=key,
        kind=Transfer.Kind.EXCHANGE,
        legs=[Leg(member_account(payer), -minutes), Leg(member_account(payee), minutes)],
    )


def _identity_restart(value: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE ledger_entry ALTER COLUMN id RESTART WITH {int(value)}")


@pytest.mark.django_db(transaction=True)
def test_statement_and_audit_follow_sequence_when_ids_run_backwards(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice, ben = make_member(network_a), make_member(network_a)
    with tenant_context(network_a):
        _identity_restart(1_000_000)  # the node the network started on
        gift_grant(member=alice)
        _exchange(alice, ben, 30, "before the move")
        _identity_restart(1)  # the node it moved to hands out smaller ids
        _exchange(alice, ben, 15, "after the move")
        _exchange(ben, alice, 5, "after the move, back")

        account = member_account(alice)
        by_sequence = list(Entry.objects.filter(account=account).order_by("sequence"))
        assert [e.sequence for e in by_sequence] == [1, 2, 3, 4]
        assert by_sequence[-1].id < by_sequence[0].id, "ids should disagree with posting order"
        assert account.last_sequence == 4

        lines = member_statement(member=alice)
        assert [(line.minutes, line.balance_after) for line in lines] == [
            (5, 80),
            (-15, 75),
            (-30, 90),
            (120, 120),
        ]
        older = member_statement(member=alice, limit=2, before=lines[1].sequence)
        assert [line.minutes for line in older] == [-30, 120]

        assert ledger_audit(network_name="network-a", federation_position=0).problems == []
    call_command("ledger_audit", "--network", "network-a")


@pytest.mark.django_db(transaction=True)
def test_the_audit_catches_entries_out_of_sequence(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice, ben = make_member(network_a), make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=alice)
        _exchange(alice, ben, 30, "e1")
        account = member_account(alice)
        # A deliberate hand swaps the two entries' places in the history.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
            cursor.execute(
                "UPDATE ledger_entry SET sequence = 3 - sequence + 100 WHERE account_id = %s",
                [account.pk],
            )
            cursor.execute(
                "UPDATE ledger_entry SET sequence = sequence - 100 WHERE account_id = %s",
                [account.pk],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the rows' foreign-key checks
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")
        problems = ledger_audit(network_name="network-a", federation_position=0).problems
    assert any(p.startswith("cached balance differs from its last entry's") for p in problems)
    assert any(p.startswith("running balance differs") for p in problems)
    with pytest.raises(CommandError):
        call_command("ledger_audit", "--network", "network-a")


@pytest.mark.django_db(transaction=True)
def test_the_migration_numbers_existing_entries_in_id_order(network_a: Network) -> None:
    """Entries posted before `sequence` existed (on one PostgreSQL, where id order was
    posting order) are numbered per account in id order; each account's last_sequence
    follows. They are posted with the schema at 0003, through that state's ledger_post()
    (the models of today know columns it lacks)."""
    schema = network_a.schema_name
    call_command(
        "migrate_schemas", "ledger", "0003", schema_name=schema, interactive=False, verbosity=0
    )
    connection.set_schema_to_public()
    try:
        with tenant_context(network_a), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_account (kind, owner_id, balance, floor)"
                " VALUES ('member', 1, 0, 0), ('member', 2, 0, 0) RETURNING id"
            )
            alice, ben = (row[0] for row in cursor.fetchall())
            cursor.execute("SELECT id FROM ledger_account WHERE kind = 'issuance'")
            (issuance,) = cursor.fetchone()
            for key, (payer, payee, minutes) in enumerate(
                [(issuance, alice, 120), (issuance, ben, 120), (alice, ben, 30), (ben, alice, 10)]
            ):
                cursor.execute(
                    "SELECT id FROM ledger_post(%s, 'exchange', '', NULL, 'system', NULL,"
                    " %s::bigint[], %s::bigint[])",
                    [f"old-{key}", [payer, payee], [-minutes, minutes]],
                )
    finally:
        call_command(
            "migrate_schemas", "ledger", schema_name=schema, interactive=False, verbosity=0
        )
        connection.set_schema_to_public()
    with tenant_context(network_a):
        for account_id in (alice, ben):
            account = Account.objects.get(pk=account_id)
            entries = list(Entry.objects.filter(account=account).order_by("id"))
            assert [e.sequence for e in entries] == [1, 2, 3]
            assert account.last_sequence == 3
        assert Account.objects.get(pk=issuance).last_sequence == 2
        transfer_create(
            idempotency_key="after the migration",
            kind=Transfer.Kind.EXCHANGE,
            legs=[Leg(Account.objects.get(pk=alice), -5), Leg(Account.objects.get(pk=ben), 5)],
        )
        assert Account.objects.get(pk=alice).last_sequence == 4
        assert ledger_audit(network_name="network-a", federation_position=0).problems == []

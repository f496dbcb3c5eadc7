"""A transfer refused at commit reads the same on plain PostgreSQL and on Citus.

PostgreSQL reports the deferred balance check's own message (23514). Citus reports any
refusal at commit on a worker as `XX000 could not commit transaction for shard <id> on at
least one active node`, the worker's message staying in the worker's log. Both become
`TransferRefusedAtCommit`. The Citus shape is raised here by the database itself (the
scale-out suite meets the real one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.db import DatabaseError, transaction
from django_tenants.utils import tenant_context

from kernel.db import connection
from ledger.services import (
    TransferRefusedAtCommit,
    gift_grant,
    ledger_error_translate,
    member_account,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network

_CITUS_SHAPE = "could not commit transaction for shard 102008 on at least one active node"


def _raised(*statements: str | tuple[str, list[Any]]) -> DatabaseError:
    with (
        pytest.raises(DatabaseError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        for statement in statements:
            text, params = statement if isinstance(statement, tuple) else (statement, None)
            cursor.execute(text, params)
    return raised.value


@pytest.mark.django_db(transaction=True)
def test_the_deferred_check_on_postgresql_is_a_refusal_at_commit(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=alice)
        account = member_account(alice).pk
        error = _raised(
            "SET LOCAL hexitime.ledger_posting = on",
            "INSERT INTO ledger_transfer (id, idempotency_key, kind, memo, actor_label,"
            " created_at) VALUES ('00000000-0000-0000-0000-000000000002', 'lopsided',"
            " 'gift', '', '', now())",
            (
                "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after,"
                " sequence) VALUES ('00000000-0000-0000-0000-000000000002', %s, 5, 125, 2)",
                [account],
            ),
        )
    assert "unbalanced" in str(error)
    assert isinstance(ledger_error_translate(error), TransferRefusedAtCommit)


@pytest.mark.django_db
def test_the_citus_wrapped_refusal_at_commit_is_the_same_domain_error() -> None:
    error = _raised(f"DO $$ BEGIN RAISE EXCEPTION '{_CITUS_SHAPE}' USING ERRCODE = 'XX000'; END $$")
    translated = ledger_error_translate(error)
    assert isinstance(translated, TransferRefusedAtCommit)
    assert "did not balance" in str(translated)


@pytest.mark.django_db
def test_other_internal_errors_are_left_as_they_are() -> None:
    error = _raised("DO $$ BEGIN RAISE EXCEPTION 'something else' USING ERRCODE = 'XX000'; END $$")
    assert ledger_error_translate(error) is error

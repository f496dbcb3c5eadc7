"""Hexitime on Citus 13 with schema-based sharding: each network schema a distributed
schema on a worker, the public schema on the coordinator (DESIGN.md §8).

One scenario, in order: networks are provisioned and land on different workers; credit
moves inside a network and between networks on different workers; a network moves to the
other worker while members post and read their statements; afterwards the ledger audit is
clean and statements are in posting order. Each step prints what it saw.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django_tenants.utils import tenant_context

from core.members.models import Member
from kernel.db import connection
from ledger.federation.services import (
    federated_transfer_create,
    federation_membership_set,
    federation_partner_add,
)
from ledger.models import Entry, Transfer
from ledger.selectors import ledger_audit, member_balance, member_statement
from ledger.services import (
    InsufficientCredit,
    Leg,
    TransferRefusedAtCommit,
    TransferRequest,
    gift_grant,
    ledger_error_translate,
    member_account,
    transfer_create,
    transfers_create,
)
from tenants.models import Network, SpareSchema
from tenants.services.networks import network_create
from tenants.services.schemas import schema_spares_fill, schema_template_current
from tests.conftest import NetworkClient, upgrade
from tests.scaleout.conftest import CITUS_URL
from tests.servers import drop_database, release_run, with_database

pytestmark = pytest.mark.usefixtures("citus")
RUN = uuid.uuid4().hex[:6]
_state: dict[str, Any] = {}


def _one(query: str, params: list[Any] | None = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()


def _workers() -> list[tuple[str, int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nodename, nodeport, groupid FROM pg_dist_node"
            " WHERE isactive AND noderole = 'primary' AND shouldhaveshards ORDER BY groupid"
        )
        return cursor.fetchall()


def _node_of(network: Network) -> tuple[str, int, int]:
    """Where the network's schema lives: the node of its ledger's shard placement."""
    connection.set_schema_to_public()
    return _one(
        "SELECT n.nodename, n.nodeport, n.groupid FROM pg_dist_shard s"
        " JOIN pg_dist_placement p USING (shardid) JOIN pg_dist_node n USING (groupid)"
        " WHERE s.logicalrelid = %s::regclass",
        [f"{network.schema_name}.ledger_entry"],
    )


def _schema_move(network: Network, node: tuple[str, int, int]) -> None:
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT citus_schema_move(%s::regnamespace, %s, %s, 'force_logical')",
            [network.schema_name, node[0], node[1]],
        )


def _member(network: Network, name: str) -> Member:
    with tenant_context(network):
        member = Member.objects.create_user(
            f"{name.lower()}-{RUN}@{network.slug}.example",
            "correct-horse-battery",
            full_name=name,
        )
        gift_grant(member=member)
    return member


def _exchange(network: Network, payer: Member, payee: Member, minutes: int, key: str) -> Transfer:
    with tenant_context(network):
        return transfer_create(
            idempotency_key=key,
            kind=Transfer.Kind.EXCHANGE,
            memo=key,
            legs=[Leg(member_account(payer), -minutes), Leg(member_account(payee), minutes)],
        )


def _assert_posting_order(network: Network, member: Member) -> list[int]:
    """The statement is newest first by sequence, and each line's balance follows from the
    one before it; returns the entry ids, newest first."""
    with tenant_context(network):
        lines = member_statement(member=member, limit=1000)
        balance = member_balance(member=member)
    assert [line.sequence for line in lines] == list(range(len(lines), 0, -1))
    assert lines[0].balance_after == balance
    for newer, older in itertools.pairwise(lines):
        assert older.balance_after + newer.minutes == newer.balance_after
    assert lines[-1].balance_after == lines[-1].minutes
    return [line.entry_id for line in lines]


def test_the_database_is_a_citus_13_coordinator_with_two_workers() -> None:
    version = _one("SELECT citus_version()")[0]
    print(f"\n{version}")
    assert version.startswith("Citus 13.")
    settings = {}
    for name in (
        "citus.enable_schema_based_sharding",
        "citus.enable_unsafe_triggers",
        "citus.propagate_set_commands",
        "max_prepared_transactions",
    ):
        settings[name] = _one(f"SHOW {name}")[0]
    print(settings)
    assert settings["citus.enable_schema_based_sharding"] == "on"
    assert settings["citus.enable_unsafe_triggers"] == "on"
    assert settings["citus.propagate_set_commands"] == "local"
    assert int(settings["max_prepared_transactions"]) > 0
    workers = _workers()
    print(f"workers: {workers}")
    assert len(workers) >= 2


def test_a_release_on_a_database_made_on_the_coordinator_alone_is_refused(tmp_path: Path) -> None:
    """What `hexitime release` does with a DATABASE_URL naming a database that does not
    exist: creates it on the coordinator, without the extension (Citus 13.0 does not
    propagate CREATE DATABASE). Networks made there would stay local; the release says so."""
    url = with_database(CITUS_URL, f"hexitime_bare_{os.getpid()}")
    drop_database(url)
    try:
        run = release_run(url, tmp_path)
        _, err = run.communicate(timeout=300)
        print(f"\nexit {run.returncode}: {err.strip()}")
        assert run.returncode != 0
        assert f"database {urlsplit(url).path.lstrip('/')!r} has no citus extension" in err
        assert "Traceback" not in err
    finally:
        drop_database(url)


def test_networks_are_provisioned_as_distributed_schemas_on_different_workers() -> None:
    started = time.perf_counter()
    template = schema_template_current()
    print(
        f"\ntemplate: {template.statement_count} statements ({time.perf_counter() - started:.1f} s)"
    )
    networks = []
    for name in ("a", "b"):
        started = time.perf_counter()
        networks.append(network_create(slug=f"scaleout-{name}-{RUN}", name=f"Scaleout {name}"))
        print(
            f"provisioned {networks[-1].slug} by template replay in "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
    a, b = networks
    if _node_of(a) == _node_of(b):
        other = next(w for w in _workers() if w != _node_of(a))
        _schema_move(b, other)
    nodes = {network.slug: _node_of(network) for network in networks}
    print(f"placements: {nodes}")
    assert nodes[a.slug] != nodes[b.slug]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schema_name::text, colocation_id FROM citus_schemas"
            " WHERE schema_name::text IN (%s, %s) ORDER BY 1",
            [a.schema_name, b.schema_name],
        )
        distributed = cursor.fetchall()
    print(f"citus_schemas: {distributed}")
    assert [row[0] for row in distributed] == sorted([a.schema_name, b.schema_name])
    _state.update(a=a, b=b)


def test_a_schema_behind_on_a_worker_is_migrated_by_replayed_sql() -> None:
    """`tenants migrate`'s steps for one schema on a worker: the applied migrations read
    across schemas on both workers in one query, the plan written out once, replayed one
    statement per execute; the catalog ends where a fresh network's is. (The command itself
    is not run here: it would migrate whatever else this shared cluster holds.)"""
    from tenants.services.fleet import replay_plan, schema_replay, schemas_applied
    from tenants.services.schemas import tenant_migration_state
    from tests.tenants.test_provisioning import CATALOG, _catalog

    behind = network_create(slug=f"scaleout-behind-{RUN}", name="Scaleout behind")
    other = _state["b"]
    reference = _catalog(behind.schema_name)
    call_command(
        "migrate_schemas",
        "listings",
        "0001",
        schema_name=behind.schema_name,
        interactive=False,
        verbosity=0,
    )
    connection.set_schema_to_public()
    applied = schemas_applied([behind.schema_name, other.schema_name])
    assert applied[behind.schema_name] != applied[other.schema_name]
    plan = replay_plan(schema_name=behind.schema_name)
    assert plan is not None and plan.steps
    assert schema_replay(schema_name=behind.schema_name, plan=plan, state=tenant_migration_state())
    migrated = _catalog(behind.schema_name)
    for part in CATALOG:
        assert migrated[part] == reference[part], part
    print(
        f"\nreplayed {len(plan.steps)} migrations into {behind.schema_name} on {_node_of(behind)}"
    )


def test_a_network_is_provisioned_from_a_spare_schema() -> None:
    assert schema_spares_fill(count=1) == 1
    started = time.perf_counter()
    spared = network_create(slug=f"scaleout-spare-{RUN}", name="Scaleout spare")
    print(
        f"\nprovisioned {spared.slug} from a spare in "
        f"{(time.perf_counter() - started) * 1000:.0f} ms on {_node_of(spared)}"
    )
    assert not SpareSchema.objects.exists()
    member = _member(spared, "Sparrow")
    with tenant_context(spared):
        assert member_balance(member=member) == 120


def test_a_transfer_posts_and_the_guards_hold_on_the_worker() -> None:
    a = _state["a"]
    alice, ann = _member(a, "Alice"), _member(a, "Ann")
    _exchange(a, alice, ann, 30, f"local-{RUN}")
    with tenant_context(a):
        assert member_balance(member=alice) == 90
        assert member_balance(member=ann) == 150
        with (
            pytest.raises(DatabaseError, match="change only through ledger_post"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE ledger_account SET balance = balance + 60")
        with (
            pytest.raises(DatabaseError, match="change only through ledger_post"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after,"
                " sequence) SELECT transfer_id, account_id, amount, balance_after, 99"
                " FROM ledger_entry LIMIT 1"
            )
        # Why the flag is raised with SET LOCAL: Citus forwards that to the worker where the
        # guard fires, and not set_config(), with which the worker refuses the change.
        with (
            pytest.raises(DatabaseError, match="change only through ledger_post"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT set_config('hexitime.ledger_posting', 'on', true)")
            cursor.execute("UPDATE ledger_account SET balance = balance + 60")

        class Undone(Exception):
            pass

        with pytest.raises(Undone), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL hexitime.ledger_posting = on")
            cursor.execute("UPDATE ledger_account SET balance = balance + 60")  # let through
            raise Undone
        # A hand that raises the flag cannot commit a lopsided transfer either: the worker's
        # deferred check refuses it, and Citus reports that in its own words.
        with (
            pytest.raises(DatabaseError) as refused,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL hexitime.ledger_posting = on")
            cursor.execute(
                "INSERT INTO ledger_transfer (id, idempotency_key, kind, memo, actor_label,"
                " created_at) VALUES (%s, 'lopsided', 'gift', '', '', now())",
                [uuid.UUID(int=7)],
            )
            cursor.execute(
                "INSERT INTO ledger_entry (transfer_id, account_id, amount, balance_after,"
                " sequence) VALUES (%s, %s, 5, 95, 3)",
                [uuid.UUID(int=7), member_account(alice).pk],
            )
        print(f"\nrefused at commit: {refused.value}")
        assert isinstance(ledger_error_translate(refused.value), TransferRefusedAtCommit)
        assert member_balance(member=alice) == 90
    _state.update(alice=alice, ann=ann)


def test_a_batch_posts_each_transfer_on_its_own_terms_on_the_worker() -> None:
    """`ledger_post_batch()` on the worker holding the network: each transfer posted or
    refused by itself, a key given twice posted once, and the balances as one posting at a
    time would leave them (its SET LOCAL flag and enable_seqscan setting travel with it)."""
    a = _state["a"]
    bea, bo = _member(a, "Bea"), _member(a, "Bo")
    with tenant_context(a):
        payer, payee = member_account(bea), member_account(bo)

        def request(key: str, minutes: int) -> TransferRequest:
            return TransferRequest(
                idempotency_key=f"{key}-{RUN}",
                kind=Transfer.Kind.EXCHANGE,
                legs=[Leg(payer, -minutes), Leg(payee, minutes)],
            )

        outcomes = transfers_create(
            transfers=[request("one", 60), request("too-much", 500), request("one", 60)]
        )
        assert [o.transfer is not None for o in outcomes] == [True, False, True]
        assert isinstance(outcomes[1].refusal, InsufficientCredit)
        assert outcomes[2].repeated
        assert (member_balance(member=bea), member_balance(member=bo)) == (60, 180)
        keys = [f"one-{RUN}", f"too-much-{RUN}"]
        assert Transfer.objects.filter(idempotency_key__in=keys).count() == 1
    _state.update(bea=bea, bo=bo)


def test_a_federated_transfer_between_networks_on_different_workers() -> None:
    a, b = _state["a"], _state["b"]
    ben = _member(b, "Ben")
    upgrade(a, b)
    for network in (a, b):
        federation_membership_set(network=network, actor=None, opted_in=True, debit_limit=600)
    federation_partner_add(network=b, partner=a, actor=None)
    federation_partner_add(network=a, partner=b, actor=None)
    assert _node_of(a) != _node_of(b)
    moved = federated_transfer_create(
        idempotency_key=f"federated-{RUN}",
        payer_network=a,
        payer_member_id=_state["alice"].pk,
        payee_network=b,
        payee_member_id=ben.pk,
        minutes=45,
        memo="across workers",
    )
    again = federated_transfer_create(
        idempotency_key=f"federated-{RUN}",
        payer_network=a,
        payer_member_id=_state["alice"].pk,
        payee_network=b,
        payee_member_id=ben.pk,
        minutes=45,
        memo="across workers",
    )
    assert again.pk == moved.pk
    with tenant_context(a):
        assert member_balance(member=_state["alice"]) == 45
    with tenant_context(b):
        assert member_balance(member=ben) == 165
    print(f"\nfederated {moved.amount} min from {_node_of(a)} to {_node_of(b)}")
    _state.update(ben=ben)


def test_a_network_moves_to_the_other_worker_while_it_serves() -> None:
    """Moved from the worker with the higher group to the lower one, whose identity range
    starts lower: entries posted after the move get smaller ids than those before."""
    a = _state["a"]
    alice, ann = _state["alice"], _state["ann"]
    low, high = _workers()[0], _workers()[-1]
    if _node_of(a) != high:
        _schema_move(a, high)
    for n in range(5):
        _exchange(a, ann, alice, 1, f"before-move-{n}-{RUN}")
    with tenant_context(a):
        ids_before = set(Entry.objects.values_list("id", flat=True))

    stop = threading.Event()
    served: dict[str, Any] = {"posted": 0, "pages": 0, "errors": []}

    def serve() -> None:
        client = NetworkClient(a)
        client.force_login(alice)
        n = 0
        try:
            while not stop.is_set():
                n += 1
                try:
                    _exchange(a, ann, alice, 1, f"during-move-{n}-{RUN}")
                    served["posted"] += 1
                    page = client.get("/ledger/statement/")
                    assert page.status_code == 200, page.status_code
                    served["pages"] += 1
                except Exception as error:
                    served["errors"].append(repr(error)[:200])
                    time.sleep(0.05)
        finally:
            connection.close()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        time.sleep(0.5)
        started = time.perf_counter()
        _schema_move(a, low)
        took = time.perf_counter() - started
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=60)
    print(
        f"\nmoved {a.schema_name} {high} -> {_node_of(a)} in {took:.1f} s while serving: "
        f"{served['posted']} transfers, {served['pages']} statement pages, "
        f"{len(served['errors'])} errors {served['errors'][:3]}"
    )
    assert _node_of(a) == low
    assert served["posted"] > 0 and served["pages"] > 0
    assert served["errors"] == []

    for n in range(3):
        _exchange(a, ann, alice, 1, f"after-move-{n}-{RUN}")
    with tenant_context(a):
        newest = Entry.objects.filter(transfer__idempotency_key=f"after-move-2-{RUN}")
        new_ids = list(newest.values_list("id", flat=True))
    print(f"ids before the move up to {max(ids_before)}, after it {new_ids}")
    assert max(new_ids) < max(ids_before), "the move should have given the schema smaller ids"


def test_the_audit_is_clean_and_statements_are_in_posting_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    a, b = _state["a"], _state["b"]
    people = ("alice", "ann", "bea", "bo")
    for network, member in [(a, _state[name]) for name in people] + [(b, _state["ben"])]:
        ids = _assert_posting_order(network, member)
        print(
            f"{member.full_name}: {len(ids)} lines in posting order; "
            f"ids newest first {ids[:3]}...{ids[-3:]}"
        )
    for network in (a, b):
        with tenant_context(network):
            report = ledger_audit(network_name=network.slug, federation_position=_position(network))
        assert report.problems == []
    call_command("ledger_audit")
    output = capsys.readouterr().out
    with capsys.disabled():
        print("\n" + output)
    assert "All " in output and "MISMATCH" not in output


def _position(network: Network) -> int:
    from ledger.federation.selectors import federation_positions

    return federation_positions().get(network.pk, 0)

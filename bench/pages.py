"""Member pages over real HTTP against the sign-in page, 8 signed-in clients at once.

    hexitime bench pages [--members 4000] [--exchanges 20000] [--listings 10000]
                        [--clients 8] [--seconds 10] [--rounds 2]
    PYTHONPATH=.:platform python bench/pages.py [...]        (DATABASE_URL, REDIS_URL set)

Builds one network in a scratch database (`hexitime.scratch`): members, listings with
varied text and completed exchanges, the map and metrics stored as the Celery task stores
them. Collects static files into a temporary folder and starts the real server as
`hexitime serve` does (gunicorn, production settings, DEBUG off) on a free port. Each of
`--clients` threads signs in as its own member through the sign-in form and keeps its
connection alive. Rounds alternate the pages, each page timed for `--seconds` with the
sign-in page (the baseline) timed just before it, so a ratio compares two figures taken
moments apart on the same busy machine. Searches vary their text per request.

Prints, per page: requests/s, p50 and p95 ms, the ratio of throughput to the baseline
beside its target (>= 0.5x), and the load average at the time.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from hexitime.scratch import scratch_database

if TYPE_CHECKING:
    import requests

    from core.listings.models import Listing
    from core.members.models import Member

TARGET_RATIO = 0.5  # every member page >= 0.5x the sign-in page's throughput
MAP_P95_MS = 50  # the stored map, served from cache
SEARCH_P95_MS = 50
CPU_MS = 100  # no request over 100 ms of CPU on any page
PASSWORD = "bench-password-123"  # noqa: S105 - the scratch network's members
TERMS = [
    "run charts",
    "sepsis",
    "coaching",
    "pdsa",
    "pharmacist",
    "research",
    "power bi",
    "mentoring",
    "discharge",
    "schwartz",
    "cannulation",
    "leadership",
    "frailty",
    "handover",
    "audit",
    "dementia",
    "stroke",
    "simulation",
    "wound care",
    "rota",
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/pages.py")
    parser.add_argument("--members", type=int, default=4000)
    parser.add_argument("--exchanges", type=int, default=20_000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per page per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="", help="time only the pages whose name has this")
    options = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.test"
    with scratch_database("hx_bench_pages"):
        return run(options)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def build(options: argparse.Namespace) -> dict[str, Any]:
    """The network, its data and stored map; returns what the clients need."""
    import django

    django.setup()
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from bench.common import (
        bench_exchange_completed,
        bench_members_create,
        bench_network_create,
        database_analyze,
        giver_weights,
    )
    from core.exchanges.models import Exchange
    from core.insights.services.metrics import network_metrics_store
    from core.listings.demo import DEMO_LISTINGS
    from core.listings.models import Listing
    from core.members.models import Member
    from kernel.db import connection
    from tenants.services.slugs import network_domain

    network = bench_network_create()
    rng = random.Random(14)
    with tenant_context(network):
        # The production hasher (the test settings' fast one is not accepted there).
        hashed = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
        members = bench_members_create(rng, options.members, password=hashed)
        Member.objects.update(email_verified_at=timezone.now())
        listings = Listing.objects.bulk_create(
            (_listing(rng, members, DEMO_LISTINGS) for _ in range(options.listings)),
            batch_size=2000,
        )
        now = timezone.now()

        def exchange(listing: Listing) -> Exchange:
            return bench_exchange_completed(
                rng,
                listing=listing,
                giver_id=listing.owner_id,
                pool=members,
                members=members,
                now=now,
            )

        chosen = rng.choices(listings, weights=giver_weights(len(listings)), k=options.exchanges)
        exchanges = Exchange.objects.bulk_create(map(exchange, chosen), batch_size=2000)
        database_analyze()
        begin = time.process_time()
        network_metrics_store(network.schema_name)  # as the Celery task does
        task_cpu = time.process_time() - begin
        from django.db.models.functions import Length

        from core.insights.models import MapSnapshot

        sizes = dict(MapSnapshot.objects.values_list("group", Length("body")))
        print(
            f"map and metrics stored in {task_cpu:.1f}s CPU (in the task, not a request): "
            f"{len(sizes)} parts, overview {sizes.get('', 0) / 1000:.1f} kB gzipped, largest "
            f"group {max(sizes.values()) / 1000:.1f} kB",
            flush=True,
        )
        clients = [members[n] for n in range(options.clients)]
        mine = {
            m.pk: next(e.pk for e in exchanges if m.pk in (e.giver_id, e.receiver_id))
            for m in clients
        }
    connection.set_schema_to_public()
    connection.close()
    return {
        "host": network_domain("bench"),
        "clients": [(m.email, mine[m.pk]) for m in clients],
    }


def _listing(
    rng: random.Random,
    members: list[Member],
    templates: Sequence[tuple[str, str, str, int, str, str]],
) -> Listing:
    from core.listings.models import Listing

    kind, category, fmt, minutes, title, description = rng.choice(templates)
    return Listing(
        owner=rng.choice(members),
        kind=kind,
        category=category,
        format=fmt,
        duration_minutes=minutes,
        title=f"{title} ({rng.choice(TERMS)})",
        description=f"{description} Also: {', '.join(rng.sample(TERMS, 3))}.",
    )


class Server:
    """`hexitime serve` on a free port with production settings, against the scratch
    database, static files collected into a temporary folder."""

    def __init__(self, static_root: Path) -> None:
        self.port = _free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "hexitime.settings.production",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "HEXITIME_STATIC_ROOT": str(static_root),
            "HEXITIME_BIND": "127.0.0.1",
            "HEXITIME_PORT": str(self.port),
        }
        subprocess.run(
            [sys.executable, "-m", "hexitime", "manage", "collectstatic", "--noinput", "-v0"],
            env=self.env,
            check=True,
        )
        # The server's log goes to a file: a pipe nobody reads fills up and stops the
        # workers mid-request once it holds 64 kB.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hexitime",
                "serve",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                "/dev/null",
                # No recycling: a recycled worker takes its CPU time out of the sum the
                # bench reads per window (a window once read -57 ms a request).
                "--max-requests",
                "0",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"the server did not start:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server's worker processes have used so far."""
        pid = self.process.pid
        total = 0
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for child in children:
            try:
                fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # a worker recycled meanwhile
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, size: int = 4000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def sign_in(base: str, host: str, email: str) -> requests.Session:
    """A keep-alive session signed in through the sign-in form. The production settings
    mark cookies Secure and the server believes X-Forwarded-Proto, as behind the TLS
    proxy; cookies are carried by hand since requests keeps Secure cookies off http."""
    import requests

    session = requests.Session()
    origin = f"https://{host}"
    session.headers.update(
        {"Host": host, "X-Forwarded-Proto": "https", "Origin": origin, "Referer": f"{origin}/"}
    )
    page = session.get(f"{base}/accounts/login/", allow_redirects=False)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    cookie = re.search(r"csrftoken=([^;]+)", page.headers.get("Set-Cookie", ""))
    if token is None or cookie is None:
        raise SystemExit(f"no sign-in form ({page.status_code}): {page.text[:500]}")
    csrf = cookie.group(1)
    answer = session.post(
        f"{base}/accounts/login/",
        allow_redirects=False,
        headers={"Cookie": f"csrftoken={csrf}"},
        data={"csrfmiddlewaretoken": token.group(1), "username": email, "password": PASSWORD},
    )
    sid = re.search(r"sessionid=([^;]+)", answer.headers.get("Set-Cookie", ""))
    if answer.status_code != 302 or sid is None:
        raise SystemExit(f"sign-in refused for {email}: {answer.status_code}")
    session.headers["Cookie"] = f"sessionid={sid.group(1)}; csrftoken={csrf}"
    return session


def load(
    base: str,
    sessions: list[requests.Session],
    paths: Callable[[random.Random, int], str],
    seconds: float,
) -> tuple[float, list[float]]:
    """Every session requests `paths(rng)` back to back for `seconds`: requests/s, ms."""
    samples: list[list[float]] = [[] for _ in sessions]
    failures: list[str] = []
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        session = sessions[n]
        while time.monotonic() < stop:
            path = paths(rng, n)
            begin = time.perf_counter()
            response = session.get(
                base + path, allow_redirects=False, headers={"Accept-Encoding": "gzip"}
            )
            samples[n].append((time.perf_counter() - begin) * 1000)
            if response.status_code != 200:
                failures.append(f"{path} answered {response.status_code}")
                return

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(len(sessions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(failures[0])
    every = [ms for some in samples for ms in some]
    return len(every) / (time.monotonic() - began), every


def run(options: argparse.Namespace) -> int:
    started = time.perf_counter()
    data = build(options)
    print(
        f"{options.members:,} members, {options.listings:,} listings, "
        f"{options.exchanges:,} completed exchanges; setup {time.perf_counter() - started:.0f}s",
        flush=True,
    )
    host, people = data["host"], data["clients"]
    with tempfile.TemporaryDirectory(prefix="hx-bench-static-") as static_root:
        server = Server(Path(static_root))
        try:
            base = f"http://127.0.0.1:{server.port}"
            sessions = [sign_in(base, host, email) for email, _ in people]
            anonymous = [_anonymous(host) for _ in people]

            def search(rng: random.Random, n: int) -> str:
                return urlencode({"q": " ".join(rng.sample(TERMS, rng.choice((1, 1, 2))))})

            pages: dict[str, Any] = {
                "home /": lambda rng, n: "/",
                "search page /listings/?q=": lambda rng, n: f"/listings/?{search(rng, n)}",
                "search API /api/v1/listings/?q=": lambda rng, n: (
                    f"/api/v1/listings/?{search(rng, n)}"
                ),
                "exchange page /exchanges/<id>/": lambda rng, n: f"/exchanges/{people[n][1]}/",
                "map page /insights/map/": lambda rng, n: "/insights/map/",
                "map API /api/v1/insights/map/": lambda rng, n: "/api/v1/insights/map/",
            }
            pages = {name: paths for name, paths in pages.items() if options.only in name}
            # Warm every worker process: imports, connections, template caches.
            load(base, anonymous, lambda rng, n: "/accounts/login/", 3)
            for paths in pages.values():
                load(base, sessions, paths, 2)
            results: dict[str, list[tuple[float, float, list[float], str, float]]] = {
                name: [] for name in pages
            }
            for round_ in range(options.rounds):
                order = list(pages) if round_ % 2 == 0 else list(reversed(pages))
                for name in order:
                    baseline, _ = load(
                        base, anonymous, lambda rng, n: "/accounts/login/", options.seconds
                    )
                    cpu_before = server.cpu_seconds()
                    rate, samples = load(base, sessions, pages[name], options.seconds)
                    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(len(samples), 1)
                    load_average = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
                    results[name].append((rate, baseline, samples, load_average, cpu_ms))
                    print(
                        f"  round {round_ + 1} {name}: {rate:.1f} req/s vs sign-in "
                        f"{baseline:.1f}, {cpu_ms:.0f} ms CPU a request "
                        f"(load {load_average})",
                        flush=True,
                    )
            alone: dict[str, list[float]] = {}
            for name in pages:
                if name.startswith("map"):  # one client: latency without the queue
                    alone[name] = load(base, sessions[:1], pages[name], options.seconds)[1]
        except BaseException:
            print(f"the server's log ends:\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()
    print(
        f"\n{options.clients} concurrent clients, {options.seconds:.0f}s per page per round, "
        f"{options.rounds} rounds; ratios are page req/s over the sign-in page's req/s "
        f"measured just before it"
    )
    print(
        f"{'':34} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'ratio':>6} {'target':>7} "
        f"{'':6} {'CPU ms':>6} {'target':>6}  load avg"
    )
    for name, runs in results.items():
        samples = [ms for run_ in runs for ms in run_[2]]
        rate = statistics.mean(r[0] for r in runs)
        ratio = statistics.mean(r[0] / r[1] for r in runs)
        p50, p95 = statistics.median(samples), statistics.quantiles(samples, n=20)[18]
        target = f">={TARGET_RATIO}x"
        met = "ok" if ratio >= TARGET_RATIO else "MISSED"
        cpu_ms = statistics.mean(r[4] for r in runs)
        cpu_met = "ok" if cpu_ms <= CPU_MS else "MISSED"
        print(
            f"{name:34} {rate:7.1f} {p50:7.1f} {p95:7.1f} {ratio:6.2f} {target:>7} {met:6} "
            f"{cpu_ms:6.1f} {'<=' + str(CPU_MS):>6} {cpu_met:6} {runs[-1][3]}"
        )
    print("CPU ms: the server's worker CPU time over the window / requests served (mean).")
    for name, samples in alone.items():
        p95 = statistics.quantiles(samples, n=20)[18]
        print(f"{name} alone (1 client): p95 {p95:.1f} ms (target < {MAP_P95_MS} ms from cache)")
    for name, target_ms in (
        ("map API /api/v1/insights/map/", MAP_P95_MS),
        ("search API /api/v1/listings/?q=", SEARCH_P95_MS),
    ):
        if name in results:
            p95 = statistics.quantiles([ms for r in results[name] for ms in r[2]], n=20)[18]
            print(
                f"{name} p95 {p95:.1f} ms under {options.clients} clients (target < {target_ms} ms)"
            )
    print(
        f"total {time.perf_counter() - started:.0f}s; load average now "
        f"{'{:.2f} {:.2f} {:.2f}'.format(*os.getloadavg())} on {os.cpu_count()} cores"
    )
    return 0


def _anonymous(host: str) -> requests.Session:
    import requests

    session = requests.Session()
    session.headers.update({"Host": host, "X-Forwarded-Proto": "https"})
    return session


if __name__ == "__main__":
    sys.exit(main())

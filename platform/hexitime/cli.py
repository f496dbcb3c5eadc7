"""`hexitime`: the one command for running, testing and operating the platform.

On a developer's machine (a checkout):
    hexitime up                 the whole platform on http://localhost:8000
    hexitime test [ARGS]        the test suite (ARGS go to pytest)
    hexitime bench NAME         run bench/NAME.py
    hexitime frontend           install the npm packages and copy them into static
    hexitime messages [-l LANG] gather every marked string into the catalogues (default
                                -l cy), then compile them (needs GNU gettext's xgettext)

Operating a deployment (docs/operations/):
    hexitime release            migrate everything and prepare this version (before traffic)
    hexitime serve [--bind ADDR] the web server (gunicorn)
    hexitime worker             a Celery worker
    hexitime beat               the Celery beat scheduler (run exactly one)
    hexitime demo               load the demonstration networks
    hexitime ledger audit       check every ledger invariant in every network
    hexitime tenants ...        operator commands for networks
    hexitime network export SLUG / import FILE   move one network with its public rows
    hexitime manage ...         any Django management command

Whichever of DATABASE_URL and REDIS_URL is unset is served by an embedded server whose
data lives in $HEXITIME_HOME (default: .hexitime/ in a checkout), except for serve,
worker and beat, which need both set.
"""

from __future__ import annotations

import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hexitime.embedded import Services, ensure_services
from hexitime.settings.env import (
    IN_CHECKOUT,
    REPO_ROOT,
    data_dir,
    env_int,
    env_str,
    settings_module_default,
)

# Subcommand words that name a group of management commands: `tenants migrate` is the
# management command `tenants_migrate`.
_GROUPS = {"ledger", "network", "tenants"}
_CHECKOUT_COMMANDS = {"up", "test", "bench", "frontend", "messages"}
_PROCESSES = {"serve", "worker", "beat"}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = args[0], args[1:]
    if command in _CHECKOUT_COMMANDS and not IN_CHECKOUT:
        print(
            f"hexitime {command} runs from a source checkout (make {command}); this is an "
            "installed copy. Use release, serve, worker and beat to operate it.",
            file=sys.stderr,
        )
        return 2
    if command == "up":
        return up(rest)
    if command == "test":
        return run_tests(rest)
    if command == "bench":
        return run_bench(rest)
    if command == "frontend":
        return build_frontend(always=True)
    if command == "messages":
        return make_messages(rest)
    if command == "release":
        return manage(["platform_release", *rest])
    if command in _PROCESSES:
        return run_process(command, rest)
    if command == "demo":
        return demo(rest)
    if command == "manage":
        return manage(rest)
    if command in _GROUPS and rest:
        return manage([f"{command}_{rest[0]}", *rest[1:]])
    print(f"hexitime: unknown command {command!r}\n{__doc__}", file=sys.stderr)
    return 2


def manage(args: list[str]) -> int:
    ensure_services(data_dir())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["hexitime", *args])
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def demo(args: list[str]) -> int:
    """`hexitime demo`: load the demonstration networks that do not exist yet. The demo
    seeds every app, so it lives in the project package (hexitime.demo), where Django looks
    for no management commands: this runs it directly."""
    if args:
        print(f"hexitime demo takes no arguments.\n{__doc__}", file=sys.stderr)
        return 2
    ensure_services(data_dir())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())
    import django

    django.setup()
    from django.db import connections

    from hexitime.demo import DEMO_PASSWORD, demo_load, demo_logins
    from kernel.db import connection

    connection.set_schema_to_public()
    created = demo_load()
    print(f"Created {len(created)} demonstration network(s).")
    for where, email in demo_logins():
        print(f"  {where}: {email} / {DEMO_PASSWORD}")
    connections.close_all()
    return 0


def run_process(name: str, args: list[str]) -> int:
    """`serve`, `worker`, `beat`: the long-running processes of a deployment, with
    production defaults, so no manifest spells out flags. The process replaces this one
    (signals from the container runtime reach gunicorn or Celery directly)."""
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        print(
            f"hexitime {name} needs {' and '.join(missing)} set "
            "(hexitime up runs the whole platform on this machine).",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module_default())
    command = _process_command(name, args)
    os.execv(command[0], command)  # noqa: S606 - our own interpreter, fixed arguments


def _process_command(name: str, args: list[str]) -> list[str]:
    python = sys.executable
    if name == "serve":
        import argparse

        parser = argparse.ArgumentParser(prog="hexitime serve")
        parser.add_argument(
            "--bind",
            # In a container the port is published from all interfaces.
            default=f"{env_str('HEXITIME_BIND', '0.0.0.0')}:{env_int('HEXITIME_PORT', 8000)}",  # noqa: S104
        )
        options, extra = parser.parse_known_args(args)
        workers = env_int("HEXITIME_WEB_WORKERS", 2 * (os.cpu_count() or 1) + 1)
        return [
            python,
            "-m",
            "gunicorn",
            "hexitime.wsgi",
            "--bind",
            options.bind,
            "--workers",
            str(workers),
            "--threads",
            str(env_int("HEXITIME_WEB_THREADS", 4)),
            "--timeout",
            "30",
            "--graceful-timeout",
            "20",
            # Recycle workers now and then, staggered, so no slow leak builds up.
            "--max-requests",
            "2000",
            "--max-requests-jitter",
            "200",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            *extra,
        ]
    if name == "worker":
        concurrency = env_int("HEXITIME_WORKER_CONCURRENCY", os.cpu_count() or 1)
        return [
            python,
            "-m",
            "celery",
            "-A",
            "hexitime",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            *args,
        ]
    home = data_dir()
    home.mkdir(parents=True, exist_ok=True)
    return [
        python,
        "-m",
        "celery",
        "-A",
        "hexitime",
        "beat",
        "--loglevel",
        "INFO",
        "--schedule",
        str(home / "celerybeat-schedule"),
        *args,
    ]


def run_tests(args: list[str]) -> int:
    """The README's test command: embedded services where no URL is given, then pytest."""
    os.chdir(REPO_ROOT)
    # Importing hexitime defaults the settings to `dev` for Celery; tests need `test`.
    os.environ["DJANGO_SETTINGS_MODULE"] = "hexitime.settings.test"
    services = ensure_services(data_dir())
    print(f"hexitime test: {_describe(services)}", flush=True)
    _ensure_system_tools()
    build_frontend(always=False)
    _compile_translations()
    import pytest

    # The slowest tests, so a slow one added is seen (a later --durations wins).
    return int(pytest.main(["--durations=15", *args]))


def build_frontend(*, always: bool) -> int:
    """htmx, cytoscape.js and Chart.js for the pages, axe-core for the browser tests, from npm
    (theming/frontend.py).
    Pages work without them, so a machine without npm only loses the enhancements."""
    from theming.frontend import FrontendUnavailable, frontend_build, frontend_built

    if frontend_built() and not always:
        return 0
    try:
        for path in frontend_build():
            print(f"hexitime: built {path.relative_to(REPO_ROOT)}", flush=True)
    except FrontendUnavailable as missing:
        print(f"hexitime: front-end packages not built: {missing}", file=sys.stderr)
        return 1
    return 0


def _compile_translations() -> None:
    from hexitime.locale_build import catalogs_compile

    for path in catalogs_compile():
        print(f"hexitime: compiled {path.relative_to(REPO_ROOT)}", flush=True)


# What `hexitime messages` never reads for strings: installed and built things, and the
# tests (their strings are not shown to anyone).
MESSAGES_IGNORE = [
    ".venv",
    "node_modules",
    "build",
    ".hexitime",
    "tests",
    "bench",
    "deploy",
    "*/vendor/*",
    "*.min.js",
]


def make_messages(args: list[str]) -> int:
    """Gather the marked strings of templates, Python and JavaScript into each language's
    catalogue (platform/hexitime/locale/), keeping translations already made, and compile
    them. Pass -l LANG for another language (default cy); more arguments go to
    makemessages."""
    os.chdir(REPO_ROOT)
    languages = args or ["-l", "cy"]
    ignores = [f"--ignore={pattern}" for pattern in MESSAGES_IGNORE]
    for domain in ("django", "djangojs"):
        code = manage(
            [
                "makemessages",
                *languages,
                "-d",
                domain,
                "--no-obsolete",
                "--add-location=file",
                *ignores,
            ]
        )
        if code:
            return code
    _compile_translations()
    return 0


def _ensure_system_tools() -> None:
    """Some tests need programs from Debian: Chromium (browser tests), npm (axe-core for
    them, and the production install) and PgBouncer (the production install behind a
    pooler). Install whichever is missing when we can (root with apt; never a downloaded
    browser build); without them those tests are skipped, saying why."""
    wanted = {"chromium": "chromium", "npm": "npm", "pgbouncer": "pgbouncer"}
    missing = [
        package
        for program, package in wanted.items()
        if not shutil.which(program, path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    ]
    if not missing or not shutil.which("apt-get") or os.geteuid() != 0:
        return
    print(f"hexitime test: installing {', '.join(missing)} from Debian...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
        if subprocess.run(command, env=env, check=False, capture_output=True).returncode:  # noqa: S603
            print("hexitime test: could not install them; the tests needing them will skip.")
            return


def _describe(services: Services) -> str:
    database = "embedded" if services.embedded_database else "from DATABASE_URL"
    redis = "embedded" if services.embedded_redis else "from REDIS_URL"
    return f"PostgreSQL {database}, Redis {redis}"


def run_bench(args: list[str]) -> int:
    if not args:
        helpers = {"__init__", "common"}  # bench/common.py is the benchmarks' shared set-up
        names = sorted(p.stem for p in (REPO_ROOT / "bench").glob("*.py") if p.stem not in helpers)
        print("hexitime bench NAME, where NAME is one of: " + ", ".join(names))
        return 2
    os.chdir(REPO_ROOT)
    ensure_services(data_dir())
    build_frontend(always=False)  # bench/pages.py serves the pages, htmx and all
    sys.argv = [f"bench/{args[0]}.py", *args[1:]]
    sys.path.insert(0, str(REPO_ROOT))  # for `bench.common`
    runpy.run_path(str(REPO_ROOT / "bench" / f"{args[0]}.py"), run_name="__main__")
    return 0


def up(args: list[str]) -> int:
    """Start everything, print where to go, start again whatever dies, and stop everything
    on Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(prog="hexitime up")
    parser.add_argument("--port", type=int, default=env_int("HEXITIME_PORT", 8000))
    parser.add_argument("--bind", default=env_str("HEXITIME_BIND", "127.0.0.1"))
    parser.add_argument("--no-demo", action="store_true", help="do not load demo networks")
    options = parser.parse_args(args)

    started = time.perf_counter()
    build_frontend(always=False)
    _compile_translations()
    home = data_dir()
    services = ensure_services(home)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hexitime.settings.dev")
    os.environ["HEXITIME_PORT"] = str(options.port)
    os.environ["HEXITIME_UP"] = "1"  # for the children (hexitime.celery)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from hexitime.demo import DEMO_PASSWORD, demo_load, demo_logins
    from tenants.selectors import network_list
    from tenants.services.networks import platform_bootstrap

    call_command("migrate_schemas", interactive=False, verbosity=0)
    platform_bootstrap()
    if not options.no_demo and not network_list().exists():
        print("First start: loading the demonstration networks...", flush=True)
        demo_load()
    networks = [(n.name, n.slug) for n in network_list()]
    logins = demo_logins()
    connections.close_all()

    children = _children(options.bind, options.port, home)
    if not _wait_until_listening(options.bind, options.port, children[0].process):
        print(f"hexitime up: the web server did not start on port {options.port}.")
        _stop(children)
        return 1
    base = f"http://{os.environ.get('HEXITIME_BASE_DOMAIN', 'localhost')}:{options.port}"
    print(f"\nHexitime is running ({time.perf_counter() - started:.1f}s to start).\n")
    print(_banner(base, networks, logins, DEMO_PASSWORD))
    print(f"\n  {_describe(services)}; Celery worker and beat running.")
    print("\nPress Ctrl-C to stop.\n", flush=True)
    return _supervise(children)


def _banner(
    base: str, networks: list[tuple[str, str]], logins: list[tuple[str, str]], password: str
) -> str:
    """Where to go and how to sign in: every name in full, the addresses in one column."""
    sites = [("Public site", f"{base}/")]
    sites += [(name, f"{base.replace('://', f'://{slug}.')}/") for name, slug in networks]
    width = max(len(name) for name, _ in sites)
    lines = [f"  {name:<{width}}  {address}" for name, address in sites]
    if logins:
        lines.append(f"\n  Demo sign-ins (password: {password})")
        where_width = max(len(where) for where, _ in logins)
        lines += [f"    {where:<{where_width}}  {email}" for where, email in logins]
    return "\n".join(lines)


@dataclass
class _Child:
    """One process `hexitime up` runs (from the moment this is made) and restarts when it
    dies."""

    name: str
    command: list[str]
    process: subprocess.Popen[bytes] = field(init=False)
    started_at: float = field(init=False)
    # Exits within RESTART_STABLE_SECONDS of starting, in a row.
    quick_failures: int = 0
    restart_at: float | None = None

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=REPO_ROOT)  # noqa: S603
        self.started_at = time.monotonic()
        self.restart_at = None


# A child that ran this long before exiting had started properly: its next start is a
# fresh one. One that keeps exiting sooner is restarted after 0.5, 1, 2, 4... seconds, and
# the RESTART_GIVE_UP-th such exit in a row stops everything (it would only fail again).
RESTART_STABLE_SECONDS = 10.0
RESTART_FIRST_DELAY = 0.5
RESTART_MAX_DELAY = 30.0
RESTART_GIVE_UP = 5


def _children(bind: str, port: int, home: Path) -> list[_Child]:
    python = sys.executable
    return [
        _Child(
            "web server",
            [
                python,
                "-m",
                "gunicorn",
                "hexitime.wsgi",
                "--bind",
                f"{bind}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
        ),
        # -q: no start-up banners printed under ours; warnings and errors still show.
        _Child(
            "Celery worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "hexitime",
                "-q",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
            ],
        ),
        _Child(
            "Celery beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "hexitime",
                "-q",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(home / "celerybeat-schedule"),
            ],
        ),
    ]


def _supervise(children: list[_Child]) -> int:
    """Keep the children running until Ctrl-C (or SIGTERM): a child that exits is logged
    and started again, with backoff while it keeps failing at start; one that fails
    RESTART_GIVE_UP times in a row stops everything, saying why (exit status 1)."""
    stopping = False
    interrupted = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping, interrupted
        stopping = True
        interrupted = signum == signal.SIGINT

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    exit_code = 0
    try:
        while not stopping:
            now = time.monotonic()
            for child in children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.start()
                    continue
                code = child.process.poll()
                if code is None:
                    continue
                if now - child.started_at < RESTART_STABLE_SECONDS:
                    child.quick_failures += 1
                else:
                    child.quick_failures = 0
                if child.quick_failures >= RESTART_GIVE_UP:
                    print(
                        f"hexitime up: the {child.name} exited ({code}) {child.quick_failures} "
                        f"times in a row within {RESTART_STABLE_SECONDS:.0f}s of starting; "
                        "stopping.",
                        flush=True,
                    )
                    exit_code = 1
                    stopping = True
                    break
                delay = min(
                    RESTART_MAX_DELAY, RESTART_FIRST_DELAY * 2 ** max(0, child.quick_failures - 1)
                )
                print(
                    f"hexitime up: the {child.name} exited ({code}); restarting it in {delay:g}s.",
                    flush=True,
                )
                child.restart_at = now + delay
            time.sleep(0.2)
        _stop(children, interrupted=interrupted)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return exit_code


def _wait_for(processes: list[subprocess.Popen[bytes]], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(process.poll() is None for process in processes):
        time.sleep(0.05)


def _wait_until_listening(host: str, port: int, server: subprocess.Popen[bytes]) -> bool:
    """The banner promises a working URL: wait until the web server accepts connections."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return True
        time.sleep(0.05)
    return False


def _stop(children: list[_Child], *, interrupted: bool = False) -> None:
    print("\nStopping Hexitime...", flush=True)
    processes = [child.process for child in children]
    if interrupted:
        # Ctrl-C reached the children too (one process group): let them finish the
        # shutdown it began. A second signal on top made gunicorn kill its workers.
        _wait_for(processes, seconds=5)
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    print("Stopped.", flush=True)

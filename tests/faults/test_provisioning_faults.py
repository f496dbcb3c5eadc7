"""Provisioning survives its worker dying: a real Celery worker process, SIGKILLed while it
builds a network, and the job still ends with one working network and its organiser.

Transactional: the worker is another process and sees only committed rows.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import psutil
import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from core.members.models import Member
from hexitime.celery import app
from hexitime.settings.env import REPO_ROOT
from kernel.db import connection
from ledger.selectors import member_balance
from tenants.models import Domain, Network, ProvisioningJob
from tenants.services.provisioning import PROVISION_MAX_ATTEMPTS, provisioning_jobs_repair
from tests.conftest import NetworkClient
from tests.servers import with_database
from tests.tenants.test_start import GOOD

if TYPE_CHECKING:
    from pathlib import Path

T = TypeVar("T")
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BUILDING = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s"


@pytest.fixture(autouse=True)
def _drop_started_network() -> Iterator[None]:
    """The network these tests start outlives a transactional test's flush (its schema)."""
    yield
    for network in Network.objects.filter(slug=GOOD["slug"]):
        network.delete(force_drop=True)


def _test_database_url() -> str:
    return with_database(os.environ["DATABASE_URL"], connection.settings_dict["NAME"])


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Real `celery worker` processes (prefork, one child) on the test database; their
    output goes to worker-N.log in the test's tmp_path."""
    app.control.purge()
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.test",
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
    }
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hexitime",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
        ]
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            worker = subprocess.Popen(
                command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        for child in _children(worker):
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        worker.kill()  # does nothing to one already gone
        worker.wait(timeout=30)
    app.control.purge()


def _children(worker: subprocess.Popen[bytes]) -> list[psutil.Process]:
    try:
        return psutil.Process(worker.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


@pytest.fixture
def domain_blocker() -> Iterator[Callable[[], None]]:
    """Holds the new network's domain name in an open transaction of another session, so a
    worker building the network waits inside its transaction, after the network row and
    before the schema: the moment to kill it. Calling the returned function lets go."""
    blocker = psycopg.connect(_test_database_url())
    public = Network.objects.get(schema_name="public")
    blocker.execute(
        "INSERT INTO tenants_domain (domain, tenant_id, is_primary) VALUES (%s, %s, false)",
        [f"{GOOD['slug']}.localhost", public.pk],
    )
    yield blocker.rollback
    blocker.close()


def _wait_for(condition: Callable[[], T | None], seconds: float = 60) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {condition}")


def _building_backend() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(BUILDING, ['%INSERT INTO "tenants_domain"%'])
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


def _job_status(job: ProvisioningJob) -> str:
    job.refresh_from_db()
    return job.status if job.status in {"done", "failed"} else ""


def _assert_one_working_network(job: ProvisioningJob) -> None:
    assert job.status == "done", job.error
    network = Network.objects.get(slug=GOOD["slug"])
    assert Domain.objects.filter(tenant=network).count() == 1
    with tenant_context(network):
        organiser = Member.objects.get()
        assert organiser.email == GOOD["organiser_email"].lower()
        assert member_balance(member=organiser) == 120  # gifted once
    client = NetworkClient(network)
    assert client.login(email=organiser.email, password=GOOD["organiser_password"])
    assert client.get("/").status_code == 200


def test_a_worker_child_killed_mid_build_hands_the_job_to_the_next_child(
    public_client: Client,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    domain_blocker: Callable[[], None],
) -> None:
    worker = start_worker()
    progress = public_client.post("/start/", GOOD)["Location"]
    job = ProvisioningJob.objects.get()
    backend = _wait_for(_building_backend)
    (child,) = _children(worker)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    domain_blocker()  # the killed run's backend wakes, finds its client gone, rolls back

    assert _wait_for(lambda: _job_status(job)) == "done"
    assert _backend_gone(backend)
    assert job.attempts == 2
    _assert_one_working_network(job)
    assert public_client.get(progress).status_code == 302  # on to the hand-over
    # Nothing of it leaked into another network.
    with tenant_context(Network.objects.get(slug=GOOD["slug"])):
        assert Member.objects.count() == 1


def test_a_job_whose_whole_worker_died_is_listed_and_repaired_by_the_operator_command(
    public_client: Client,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    domain_blocker: Callable[[], None],
) -> None:
    worker = start_worker()
    public_client.post("/start/", GOOD)
    job = ProvisioningJob.objects.get()
    backend = _wait_for(_building_backend)
    for process in [*_children(worker), psutil.Process(worker.pid)]:
        process.kill()  # the worker's machine went away: nothing puts the message back
    worker.wait(timeout=30)
    domain_blocker()
    _wait_for(lambda: _backend_gone(backend))
    job.refresh_from_db()
    assert job.status == "running"  # what the organiser would watch for ever
    assert not Network.objects.filter(slug=GOOD["slug"]).exists()
    refused = public_client.post("/start/", {**GOOD, "organiser_email": "other@trust.example"})
    assert "being set up for someone else" in refused.content.decode()

    listed = io.StringIO()
    call_command("tenants_stuck", stdout=listed)
    assert f"{job.pk}  started" in listed.getvalue()
    assert "1 attempt(s)" in listed.getvalue()

    start_worker()
    repaired = io.StringIO()
    call_command("tenants_stuck", "--repair", stdout=repaired)
    assert "-> queued" in repaired.getvalue()
    assert _wait_for(lambda: _job_status(job)) == "done", job.error
    _assert_one_working_network(job)
    again = io.StringIO()
    call_command("tenants_stuck", stdout=again)
    assert again.getvalue().strip() == "No stuck provisioning jobs."


def test_a_job_interrupted_too_often_fails_with_start_again(public_client: Client) -> None:
    public_client.post("/start/", GOOD)
    job = ProvisioningJob.objects.get()
    # As after PROVISION_MAX_ATTEMPTS runs whose worker died (the test above kills one).
    ProvisioningJob.objects.filter(pk=job.pk).update(
        status="running", attempts=PROVISION_MAX_ATTEMPTS
    )

    assert provisioning_jobs_repair() == 1

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.organiser_password == ""
    page = public_client.get(f"/start/{job.pk}/").content.decode()
    assert "interrupted several times" in page
    assert "Start again" in page
    assert 'http-equiv="refresh"' not in page
    assert not Network.objects.filter(slug=GOOD["slug"]).exists()
    # The subdomain is free for a new attempt.
    assert public_client.post("/start/", GOOD).status_code == 302


def test_a_queued_job_whose_message_was_lost_is_sent_again_after_a_grace_period(
    public_client: Client, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    public_client.post("/start/", GOOD)  # no worker: the message waits in Redis
    app.control.purge()  # ...and is lost
    job = ProvisioningJob.objects.get()
    assert provisioning_jobs_repair() == 0  # a young queued job may just be waiting

    ProvisioningJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - timedelta(minutes=6)
    )
    start_worker()
    assert provisioning_jobs_repair() == 1
    assert _wait_for(lambda: _job_status(job)) == "done"
    _assert_one_working_network(job)


def test_a_running_job_with_a_live_run_is_not_stuck(
    public_client: Client,
    start_worker: Callable[[], subprocess.Popen[bytes]],
    domain_blocker: Callable[[], None],
) -> None:
    start_worker()
    public_client.post("/start/", GOOD)
    _wait_for(_building_backend)
    assert provisioning_jobs_repair() == 0  # slow, not dead: its run holds the job's lock
    domain_blocker()
    job = ProvisioningJob.objects.get()
    assert _wait_for(lambda: _job_status(job)) == "done"
    assert job.attempts == 1


def test_another_networks_page_does_not_show_the_job(
    public_client: Client, network_a: Network
) -> None:
    public_client.post("/start/", GOOD)
    job = ProvisioningJob.objects.get()
    assert Client(HTTP_HOST="network-a.localhost").get(f"/start/{job.pk}/").status_code == 404


def test_beat_repairs_stuck_jobs_from_the_public_schema(
    public_client: Client, start_worker: Callable[[], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """The settings' beat entry, sent by the platform's scheduler to a real worker."""
    public_client.post("/start/", GOOD)
    app.control.purge()  # the job's own message is lost
    job = ProvisioningJob.objects.get()
    ProvisioningJob.objects.filter(pk=job.pk).update(
        status="running", attempts=PROVISION_MAX_ATTEMPTS
    )
    start_worker()
    beat = import_string(settings.CELERY_BEAT_SCHEDULER)(
        app=app, schedule_filename=str(tmp_path / "beat-schedule")
    )
    entry = settings.CELERY_BEAT_SCHEDULE["provisioning-repair"]
    beat.merge_inplace({"provisioning-repair": entry})
    try:
        beat.apply_entry(beat.schedule["provisioning-repair@public"])
        assert _wait_for(lambda: _job_status(job)) == "failed"
    finally:
        beat.close()
    assert "interrupted several times" in job.error

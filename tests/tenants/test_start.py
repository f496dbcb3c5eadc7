"""Start a network: the public form, the provisioning task, the hand-over into the network."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.test import Client
from django_tenants.utils import tenant_context

from core.joining.services import join_settings_get
from core.members.models import JoinPolicy, Member
from kernel.db import connection
from ledger.selectors import member_balance
from tenants.models import Network, ProvisioningJob
from tenants.services.handover import handover_token
from tenants.services.provisioning import provisioning_job_run
from tests.conftest import NetworkClient

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

GOOD = {
    "name": "Started Network",
    "slug": "started",
    "organisation_type": "trust",
    "organiser_name": "Olu Organiser",
    "organiser_email": "Olu@Trust.example",
    "organiser_password": "a-long-unusual-passphrase",
}


def _follow_progress(client: Client, url: str, *, attempts: int = 300) -> str:
    """Poll the progress page as the browser's refresh would, until it hands over."""
    for _ in range(attempts):
        response = client.get(url)
        if response.status_code == 302:
            return response["Location"]
        assert response.status_code == 200
        assert b"failed" not in response.content.lower()
        assert b'http-equiv="refresh"' in response.content
        time.sleep(0.1)
    raise AssertionError("provisioning did not finish")


@pytest.mark.django_db(transaction=True)
def test_an_organiser_starts_a_network_and_lands_in_it_signed_in(
    public_client: Client, worker: None
) -> None:
    try:
        assert public_client.get("/start/").status_code == 200
        response = public_client.post("/start/", GOOD)
        assert response.status_code == 302, response.content.decode()
        progress_url = response["Location"]

        handover = _follow_progress(public_client, progress_url)
        host = f"started.{settings.HEXITIME_BASE_DOMAIN}"
        assert handover.startswith(f"http://{host}/welcome/")

        browser = Client(HTTP_HOST=host, enforce_csrf_checks=True)
        path = handover.removeprefix(f"http://{host}")
        button = browser.get(path)
        assert button.status_code == 200
        assert b"Continue to Started Network" in button.content
        assert ProvisioningJob.objects.get().handed_over_at is None  # a GET spends nothing
        landed = browser.post(path, _csrf(browser), follow=True)
        assert landed.status_code == 200
        assert b"Set up your network" in landed.content or b"Welcome to" in landed.content
        assert b"Signed in as Olu Organiser" in landed.content
        assert b"for now an organiser approves each new member" in landed.content
        assert b'href="/members/invitations/"' in landed.content

        network = Network.objects.get(slug="started")
        assert network.organisation_type == "trust"
        job = ProvisioningJob.objects.get(pk=progress_url.rstrip("/").rsplit("/", 1)[1])
        assert job.status == "done"
        assert job.organiser_password == ""  # the hash is not kept once used
        assert job.handed_over_at is not None
        with tenant_context(network):
            organiser = Member.objects.get()
            assert organiser.email == "olu@trust.example"
            assert organiser.check_password(GOOD["organiser_password"])
            assert organiser.has_perm("ledger.view_network_totals")
            assert organiser.has_perm("theming.change_theme")
            assert member_balance(member=organiser) == 120
            # A new network lets people in only with an organiser's approval, until its
            # organiser chooses otherwise.
            assert join_settings_get().policy == JoinPolicy.APPROVAL
        # The organiser is not a member anywhere else, nor platform staff.
        assert not Member.objects.filter(email="olu@trust.example").exists()

        # Back on the progress page: the link is used, so it points to the network instead.
        again = public_client.get(progress_url)
        assert again.status_code == 200
        assert f"http://{host}/".encode() in again.content
    finally:
        for network in Network.objects.filter(slug="started"):
            network.delete(force_drop=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"slug": "www"}, "reserved"),
        ({"slug": "Not Valid"}, "lowercase letters"),
        ({"slug": "network-a"}, "How about “network-a-2”?"),
        ({"organiser_password": "password"}, "too common"),
        ({"organiser_password": "olu@trust.example!"}, "too similar"),
        ({"organiser_email": "not-an-email"}, "valid email"),
        ({"organisation_type": "club"}, "Select a valid choice"),
    ],
)
def test_refused_requests_say_why_and_queue_nothing(
    network_a: Network, public_client: Client, changes: dict[str, Any], message: str
) -> None:
    response = public_client.post("/start/", {**GOOD, **changes})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProvisioningJob.objects.exists()
    assert not Network.objects.filter(slug=GOOD["slug"]).exists()


def test_a_subdomain_being_set_up_for_someone_else_is_refused(public_client: Client) -> None:
    assert public_client.post("/start/", GOOD).status_code == 302
    other = Client(HTTP_HOST=settings.HEXITIME_BASE_DOMAIN)
    response = other.post("/start/", {**GOOD, "organiser_email": "someone@else.example"})
    assert response.status_code == 400
    assert "being set up for someone else" in response.content.decode()
    assert ProvisioningJob.objects.count() == 1


def test_only_the_browser_that_asked_sees_the_progress_page(public_client: Client) -> None:
    public_client.post("/start/", GOOD)
    job = ProvisioningJob.objects.get()
    assert public_client.get(f"/start/{job.pk}/").status_code == 200
    stranger = Client(HTTP_HOST=settings.HEXITIME_BASE_DOMAIN)
    assert stranger.get(f"/start/{job.pk}/").status_code == 404


def _finished_job(network: Network, organiser: Member) -> ProvisioningJob:
    return ProvisioningJob.objects.create(
        slug=network.slug,
        name=network.name,
        organisation_type="other",
        organiser_name=organiser.full_name,
        organiser_email=organiser.email,
        status="done",
        network=network,
        organiser_id=organiser.pk,
    )


def _signed_in_as(client: NetworkClient) -> bytes:
    return client.get("/welcome/").content


def _csrf(client: Client) -> dict[str, str]:
    """The form field a browser sends back from the page that set the CSRF cookie."""
    return {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}


def test_the_sign_in_token_works_once(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    organiser = make_member(network_a, full_name="Ada Organiser")
    job = _finished_job(network_a, organiser)
    token = handover_token(job)

    first = NetworkClient(network_a)
    page = first.get(f"/welcome/{token}/")
    assert page.status_code == 200
    assert b"Continue as Ada Organiser" in page.content
    assert b'method="post"' in page.content
    assert page["Cache-Control"].startswith("max-age=0")
    assert first.get("/welcome/").status_code == 302  # the GET signed nobody in
    assert first.post(f"/welcome/{token}/")["Location"] == "/welcome/"
    assert b"Signed in as Ada Organiser" in _signed_in_as(first)

    second = NetworkClient(network_a)
    for method in (second.get, second.post):
        refused = method(f"/welcome/{token}/")
        assert refused.status_code == 403
        assert b"already been used" in refused.content
    assert second.get("/welcome/").status_code == 302  # still anonymous: sent to sign in


def test_fetching_the_link_spends_nothing_and_using_it_needs_the_csrf_token(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    organiser = make_member(network_a, full_name="Ada Organiser")
    job = _finished_job(network_a, organiser)
    token = handover_token(job)
    # A chat app's link preview, a mail scanner, a prefetching browser: GETs, any number.
    for _ in range(3):
        assert NetworkClient(network_a).get(f"/welcome/{token}/").status_code == 200
    forged = NetworkClient(network_a, enforce_csrf_checks=True)
    assert forged.post(f"/welcome/{token}/").status_code == 403  # no CSRF token: refused
    job.refresh_from_db()
    assert job.handed_over_at is None

    browser = NetworkClient(network_a, enforce_csrf_checks=True)
    browser.get(f"/welcome/{token}/")
    assert browser.post(f"/welcome/{token}/", _csrf(browser))["Location"] == "/welcome/"
    assert b"Signed in as Ada Organiser" in _signed_in_as(browser)
    job.refresh_from_db()
    assert job.handed_over_at is not None


def test_a_member_of_another_network_cannot_use_the_token(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_b: NetworkClient,
) -> None:
    organiser = make_member(network_a, full_name="Ada Organiser")
    token = handover_token(_finished_job(network_a, organiser))
    intruder = make_member(network_b, full_name="Bea Intruder")
    client_b.force_login(intruder)

    for method in (client_b.get, client_b.post):
        refused = method(f"/welcome/{token}/")
        assert refused.status_code == 403
        assert b"for another network" in refused.content
    assert b"Signed in as Bea Intruder" in _signed_in_as(client_b)  # not switched to Ada

    # Refusing it elsewhere used nothing up: the organiser can still use it at home.
    client_a = NetworkClient(network_a)
    assert client_a.post(f"/welcome/{token}/").status_code == 302
    assert b"Signed in as Ada Organiser" in _signed_in_as(client_a)


def test_a_tampered_token_is_refused(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    organiser = make_member(network_a)
    token = handover_token(_finished_job(network_a, organiser))
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client_a.get(f"/welcome/{forged}/").status_code == 403
    assert client_a.post(f"/welcome/{forged}/").status_code == 403
    assert client_a.get("/welcome/").status_code == 302


def test_a_subdomain_taken_before_the_task_runs_fails_the_job_with_a_suggestion(
    public_client: Client, make_network: Callable[..., Network]
) -> None:
    public_client.post("/start/", GOOD)
    job = ProvisioningJob.objects.get()
    make_network("started", "Got There First")

    provisioning_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "failed"
    assert "How about “started-2”?" in job.error
    page = public_client.get(f"/start/{job.pk}/")
    assert b"We could not set up your network" in page.content
    assert b'http-equiv="refresh"' not in page.content
    assert Network.objects.get(slug="started").name == "Got There First"


@pytest.mark.django_db(transaction=True)  # the schema is dropped after its build committed
def test_a_failure_after_the_schema_is_built_leaves_no_network_behind(
    public_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    public_client.post("/start/", GOOD)
    job = ProvisioningJob.objects.get()

    def broken(network: Network, job: ProvisioningJob) -> None:
        raise RuntimeError("organiser account could not be created")

    monkeypatch.setattr("tenants.services.provisioning._organiser_create", broken)
    with pytest.raises(RuntimeError):
        provisioning_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "failed"
    assert job.network is None
    assert job.organiser_password == ""
    assert "Something went wrong" in job.error
    assert not Network.objects.filter(slug="started").exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'net_started'")
        assert cursor.fetchone() is None
    # A second delivery of the task changes nothing.
    assert provisioning_job_run(job_id=job.pk).status == "failed"


def test_a_redelivered_task_finishes_the_job_without_a_second_organiser(
    public_client: Client,
) -> None:
    public_client.post("/start/", GOOD)
    job = provisioning_job_run(job_id=ProvisioningJob.objects.get().pk)
    assert job.status == "done"
    # As if the worker died after building the network, before recording the outcome.
    ProvisioningJob.objects.filter(pk=job.pk).update(status="running", organiser_id=None)

    again = provisioning_job_run(job_id=job.pk)

    assert again.status == "done"
    assert again.network == job.network
    with tenant_context(job.network):
        organiser = Member.objects.get()
        assert member_balance(member=organiser) == 120  # gifted once


def test_an_expired_token_is_refused_and_left_unused(
    network_a: Network, make_member: Callable[..., Member], monkeypatch: pytest.MonkeyPatch
) -> None:
    organiser = make_member(network_a)
    job = _finished_job(network_a, organiser)
    token = handover_token(job)
    now = time.time()
    monkeypatch.setattr("django.core.signing.time.time", lambda: now + 16 * 60)

    for method in ("get", "post"):
        refused = getattr(NetworkClient(network_a), method)(f"/welcome/{token}/")
        assert refused.status_code == 403
        assert b"expired" in refused.content
    job.refresh_from_db()
    assert job.handed_over_at is None

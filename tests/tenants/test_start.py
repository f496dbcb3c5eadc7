"""Starting a network: the form, the provisioning task, the progress page, the handoff."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from core.members.models import Member
from ledger.selectors import member_balance
from tenants.models import Network, ProvisioningJob
from tenants.services import ORGANISER_GROUP, network_provision

FORM = {
    "name": "Thames Valley ICS",
    "slug": "thames-valley",
    "organisation_type": "ics",
    "join_policy": "approval",
    "organiser_full_name": "Olu Organiser",
    "organiser_email": "Olu@Example.org",
    "organiser_password": "a long and unusual passphrase",
}


def _follow_to_network(location: str) -> tuple[Client, str]:
    url = urlsplit(location)
    return Client(HTTP_HOST=url.hostname), f"{url.path}?{url.query}"


def test_progress_page_then_handoff_signs_the_organiser_in_once(public_client):
    response = public_client.post("/start/", FORM)
    job = ProvisioningJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/start/{job.pk}/"
    assert job.organiser_password_hash.startswith("md5$")  # a hash, never the password
    assert FORM["organiser_password"] not in str(ProvisioningJob.objects.values().get())

    page = public_client.get(f"/start/{job.pk}/").content.decode()
    assert "Waiting to start" in page
    assert '<meta http-equiv="refresh" content="1">' in page  # works without JavaScript
    fragment = public_client.get(f"/start/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<div id="start-status"')
    assert f'hx-get="/start/{job.pk}/"' in fragment

    assert network_provision(job_id=str(job.pk)).status == "done"
    assert network_provision(job_id=str(job.pk)).status == "done"  # a redelivery: no-op
    job.refresh_from_db()
    assert job.organiser_password_hash == ""

    ready = public_client.get(f"/start/{job.pk}/")
    assert ready.status_code == 302
    network_client, welcome = _follow_to_network(ready["Location"])
    assert network_client.defaults["HTTP_HOST"] == "thames-valley.localhost"
    assert welcome.startswith("/welcome/?token=")
    landed = network_client.get(welcome)
    assert landed.status_code == 302 and landed["Location"] == "/setup/"
    checklist = network_client.get("/setup/").content.decode()
    assert "Set up Thames Valley ICS" in checklist
    assert "Brand your network" in checklist and "Invite members" in checklist
    assert "People ask to join and an organiser approves" in checklist

    network = Network.objects.get(slug="thames-valley")
    assert (network.organisation_type, network.join_policy) == ("ics", "approval")
    with tenant_context(network):
        organiser = Member.objects.get()
        assert organiser.email == "olu@example.org"
        assert organiser.groups.filter(name=ORGANISER_GROUP).exists()
        assert organiser.check_password(FORM["organiser_password"])
        assert member_balance(member=organiser) == 120

    # The token works once; the page now points at the sign-in page.
    again = Client(HTTP_HOST="thames-valley.localhost").get(welcome)
    assert again.status_code == 302 and again["Location"] == "/accounts/login/"
    later = public_client.get(f"/start/{job.pk}/")
    assert later["Location"] == "http://thames-valley.localhost/accounts/login/"


def test_someone_elses_browser_is_not_signed_in(public_client):
    public_client.post("/start/", FORM)
    job = ProvisioningJob.objects.get()
    network_provision(job_id=str(job.pk))
    stranger = Client(HTTP_HOST=public_client.defaults["HTTP_HOST"])
    assert stranger.get(f"/start/{job.pk}/")["Location"].endswith("/accounts/login/")


def test_handoff_token_is_refused_by_another_network(public_client, network_b):
    public_client.post("/start/", FORM)
    job = ProvisioningJob.objects.get()
    network_provision(job_id=str(job.pk))
    _, welcome = _follow_to_network(public_client.get(f"/start/{job.pk}/")["Location"])
    other = Client(HTTP_HOST="network-b.localhost")
    assert other.get(welcome)["Location"] == "/accounts/login/"
    assert other.get("/setup/").status_code == 302  # not signed in there


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("www", "“www” is reserved. Please choose another."),
        ("admin", "“admin” is reserved. Please choose another."),
        ("Bad_Name!", "Use 1-40 lowercase letters, digits and hyphens"),
        ("-edge", "Use 1-40 lowercase letters, digits and hyphens"),
        ("network-a", "“network-a” is taken. How about “network-a-2”?"),
    ],
)
def test_names_refused_with_a_reason(public_client, network_a, slug, message):
    page = public_client.post("/start/", {**FORM, "slug": slug})
    assert page.status_code == 200
    assert message in page.content.decode()
    assert not ProvisioningJob.objects.exists()


def test_weak_password_refused(public_client):
    page = public_client.post("/start/", {**FORM, "organiser_password": "password"})
    assert "This password is too common." in page.content.decode()
    assert not ProvisioningJob.objects.exists()


def test_slug_taken_while_queued_fails_the_job_with_a_suggestion(public_client, make_network):
    public_client.post("/start/", FORM)
    job = ProvisioningJob.objects.get()
    make_network("thames-valley")
    assert network_provision(job_id=str(job.pk)).status == "failed"
    page = public_client.get(f"/start/{job.pk}/").content.decode()
    assert "“thames-valley” is taken. How about “thames-valley-2”?" in page
    assert "http-equiv" not in page  # no point refreshing a failure


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_network(public_client, worker):
    public_client.post("/start/", {**FORM, "slug": "worker-built"})
    job = ProvisioningJob.objects.get(slug="worker-built")
    try:
        deadline = time.monotonic() + 60
        response = public_client.get(f"/start/{job.pk}/", HTTP_HX_REQUEST="true")
        while response.status_code == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            response = public_client.get(f"/start/{job.pk}/", HTTP_HX_REQUEST="true")
        assert response.status_code == 204, response.content
        network_client, welcome = _follow_to_network(response["HX-Redirect"])
        assert network_client.get(welcome)["Location"] == "/setup/"
        assert "Set up Thames Valley ICS" in network_client.get("/setup/").content.decode()
    finally:
        ProvisioningJob.objects.filter(pk=job.pk).delete()
        for network in Network.objects.filter(slug="worker-built"):
            network.delete(force_drop=True)

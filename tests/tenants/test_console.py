"""The platform-staff console: who may use it, suspension, export, deletion, audit."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import TYPE_CHECKING, Any

import pytest
from django.core.cache import cache
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Member, MemberState, Role
from kernel.errors import PermissionDenied
from ledger.models import Entry, Transfer
from ledger.services import Leg, gift_grant, member_account, transfer_create
from tenants.models import Network, NetworkExport
from tenants.services.overview import network_overview, network_overview_list
from tests.conftest import host_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from django.db.backends.utils import CursorWrapper

    from tests.conftest import NetworkClient

STAFF_PASSWORD = "a long and unusual staff passphrase"


@pytest.fixture
def staff(db: None) -> Member:
    return Member.objects.create_user(
        "staff@hexitime.example", STAFF_PASSWORD, full_name="Sam Staff", is_staff=True
    )


@pytest.fixture
def staff_client(public_client: Client, staff: Member) -> Client:
    public_client.force_login(staff)
    return public_client


@pytest.fixture(autouse=True)
def _clear_throttle() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def test_console_lists_every_network_with_members_and_hours(
    staff_client: Client, network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    make_member(network_a)
    make_member(network_a)
    make_member(network_b)
    page = staff_client.get("/console/")
    assert page.status_code == 200
    rows = {o.network.slug: o for o in page.context["overviews"]}
    assert (rows["network-a"].members, rows["network-b"].members) == (2, 1)
    assert rows["network-a"].minutes_exchanged == 0
    assert rows["network-a"].plan == "Community (free)"


def test_console_shows_hours_exchanged_exactly_not_rounded_to_a_tenth(
    staff_client: Client, network_a: Network, make_member: Callable[..., Member]
) -> None:
    ann, bob = make_member(network_a), make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=ann)
        gift_grant(member=bob)
        for n, (giver, receiver, minutes) in enumerate(
            [(ann, bob, 120), (bob, ann, 240), (ann, bob, 135)]
        ):
            transfer_create(
                idempotency_key=f"exchange:{n}:complete",
                kind=Transfer.Kind.EXCHANGE,
                legs=[Leg(member_account(giver), -minutes), Leg(member_account(receiver), minutes)],
            )
    home = staff_client.get("/console/").content.decode()
    assert re.search(r"<td>8\.25</td>", home), "495 minutes are 8.25 hours"
    network = staff_client.get(f"/console/networks/{network_a.slug}/").content.decode()
    assert "<dd>8.25</dd>" in network


def test_console_list_makes_the_same_queries_for_two_networks_as_for_five(
    staff_client: Client, make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> None:
    def console_queries() -> tuple[int, dict[str, Any]]:
        with CaptureQueriesContext(db_connection) as queries:
            page = staff_client.get("/console/")
        assert page.status_code == 200
        return len(queries), {o.network.slug: o for o in page.context["overviews"]}

    first = make_network("q-1")
    giver, receiver = make_member(first), make_member(first, last_login=timezone.now())
    make_member(first, state=MemberState.DECLINED)  # takes no place, so not counted
    with tenant_context(first):
        gift_grant(member=giver)
        transfer_create(
            idempotency_key="exchange:1:complete",
            kind=Transfer.Kind.EXCHANGE,
            legs=[Leg(member_account(giver), -90), Leg(member_account(receiver), 90)],
        )
        exchanged_at = Transfer.objects.get(kind=Transfer.Kind.EXCHANGE).created_at
    make_member(make_network("q-2"))
    two, rows = console_queries()
    assert (rows["q-1"].members, rows["q-1"].minutes_exchanged) == (2, 90)
    assert receiver.last_login is not None
    assert rows["q-1"].last_activity == max(exchanged_at, receiver.last_login)
    assert (rows["q-2"].members, rows["q-2"].minutes_exchanged, rows["q-2"].last_activity) == (
        1,
        0,
        None,
    )

    for slug in ("q-3", "q-4", "q-5"):
        make_member(make_network(slug))
    five, rows = console_queries()
    assert len(rows) == 5
    assert five == two, f"{two} queries for 2 networks, {five} for 5"
    assert rows["q-1"].minutes_exchanged == 90


def test_console_refuses_anonymous_non_staff_and_organisers(
    public_client: Client, network_a: Network, make_member: Callable[..., Member]
) -> None:
    assert public_client.get("/console/")["Location"] == "/console/login/?next=/console/"
    # A public-schema account that is not staff.
    plain = Member.objects.create_user("plain@example.org", STAFF_PASSWORD, full_name="Plain")
    public_client.force_login(plain)
    assert public_client.get("/console/").status_code == 403
    assert (
        public_client.post("/console/networks/network-a/suspend/", {"reason": "x"}).status_code
        == 403
    )
    # A network organiser: their account exists only in their network.
    organiser = make_member(network_a, password=STAFF_PASSWORD, role=Role.ORGANISER)
    stranger = Client(HTTP_HOST=public_client.defaults["HTTP_HOST"])
    login = stranger.post(
        "/console/login/", {"username": organiser.email, "password": STAFF_PASSWORD}
    )
    assert "Please enter a correct" in login.content.decode()
    # ...and the console is not served on a network's host at all.
    assert Client(HTTP_HOST=host_of(network_a)).get("/console/").status_code == 404
    network_a.refresh_from_db()
    assert network_a.status == "active"
    assert not AuditEvent.objects.exists()
    # The console's figures refuse anyone but staff, whatever calls them.
    for actor in (plain, organiser):
        with pytest.raises(PermissionDenied):
            network_overview_list(actor=actor)
        with pytest.raises(PermissionDenied):
            network_overview(actor=actor, network=network_a)


def test_staff_sign_in_refuses_non_staff_and_is_throttled(
    public_client: Client, staff: Member
) -> None:
    Member.objects.create_user("plain@example.org", STAFF_PASSWORD, full_name="Plain")
    page = public_client.post(
        "/console/login/", {"username": "plain@example.org", "password": STAFF_PASSWORD}
    )
    assert "This is not a platform staff account." in page.content.decode()
    for _ in range(5):
        public_client.post("/console/login/", {"username": staff.email, "password": "wrong"})
    # Now even the right password is refused for a while.
    page = public_client.post(
        "/console/login/", {"username": staff.email, "password": STAFF_PASSWORD}
    )
    assert "Too many failed sign-ins" in page.content.decode()
    assert "_auth_user_id" not in public_client.session


def test_staff_sign_in_works(public_client: Client, staff: Member) -> None:
    response = public_client.post(
        "/console/login/", {"username": staff.email, "password": STAFF_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert public_client.get("/console/").status_code == 200


def test_suspension_blocks_pages_and_api_and_loses_nothing(
    staff_client: Client,
    staff: Member,
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    member = make_member(network_a)
    with tenant_context(network_a):
        gift_grant(member=member)
        entries_before = list(Entry.objects.values_list("pk", "amount"))
    client_a.force_login(member)
    response = staff_client.post(
        "/console/networks/network-a/suspend/", {"reason": "Unpaid hosting"}
    )
    assert response.status_code == 302
    page = client_a.get("/")
    assert page.status_code == 503
    assert "Network A is suspended" in page.content.decode()
    assert client_a.get("/listings/").status_code == 503
    api = client_a.get("/api/v1/ledger/statement/")
    assert api.status_code == 503 and api.json()["code"] == "network_suspended"
    assert client_b.get("/").status_code == 200  # other networks carry on

    event = AuditEvent.objects.get(verb="network.suspend")
    assert (event.actor_id, event.reason, event.after) == (
        staff.pk,
        "Unpaid hosting",
        {"status": "suspended"},
    )

    staff_client.post("/console/networks/network-a/resume/")
    assert client_a.get("/").status_code == 200
    with tenant_context(network_a):
        assert Member.objects.filter(pk=member.pk).exists()
        assert list(Entry.objects.values_list("pk", "amount")) == entries_before
    assert AuditEvent.objects.filter(verb="network.resume").count() == 1


def test_export_has_every_member_and_entry_of_the_network_and_nothing_else(
    staff_client: Client, network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    mine = [make_member(network_a, full_name=f"A person {n}") for n in range(3)]
    theirs = make_member(network_b, full_name="B person")
    for network, members in ((network_a, mine), (network_b, [theirs])):
        with tenant_context(network):
            for member in members:
                gift_grant(member=member)
    response = staff_client.post("/console/networks/network-a/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    members = json.loads(archive.read("json/members.member.json"))
    assert sorted(m["fields"]["email"] for m in members) == sorted(m.email for m in mine)
    assert all("password" not in m["fields"] for m in members)
    csv_text = archive.read("csv/members.member.csv").decode()
    assert all(m.email in csv_text for m in mine) and theirs.email not in csv_text
    entries = json.loads(archive.read("json/ledger.entry.json"))
    with tenant_context(network_a):
        assert sorted(e["pk"] for e in entries) == sorted(
            Entry.objects.values_list("pk", flat=True)
        )
    assert len(entries) == 6  # a gift is two legs
    assert "B person" not in json.dumps([archive.read(n).decode() for n in archive.namelist()])
    assert json.loads(archive.read("manifest.json"))["rows"]["members.member"] == 3
    assert NetworkExport.objects.get(network=network_a).size == len(response.content)
    assert AuditEvent.objects.filter(verb="network.export").count() == 1


@pytest.mark.django_db(transaction=True)
def test_delete_needs_an_export_and_the_typed_subdomain(
    staff_client: Client, make_network: Callable[..., Network], make_member: Callable[..., Member]
) -> None:
    network = make_network("doomed")
    make_member(network)
    refused = staff_client.post(
        "/console/networks/doomed/delete/", {"confirmation": "doomed"}, follow=True
    )
    assert "Export the network&#x27;s data first" in refused.content.decode()
    staff_client.post("/console/networks/doomed/export/")
    wrong = staff_client.post(
        "/console/networks/doomed/delete/", {"confirmation": "Doomed!"}, follow=True
    )
    assert "to confirm" in wrong.content.decode()
    assert Network.objects.filter(slug="doomed").exists()

    staff_client.post("/console/networks/doomed/delete/", {"confirmation": "doomed"})
    assert not Network.objects.filter(slug="doomed").exists()
    with connection_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'net_doomed'")
        assert cursor.fetchone() is None
    event = AuditEvent.objects.get(verb="network.delete")
    assert event.before == {"slug": "doomed", "name": "Doomed", "schema": "net_doomed"}


def connection_cursor() -> CursorWrapper:
    from kernel.db import connection

    return connection.cursor()


def test_staff_and_network_sign_in_share_one_page(
    public_client: Client, network_a: Network, client_a: NetworkClient
) -> None:
    staff_page = public_client.post("/console/login/", {"username": "", "password": ""})
    network_page = client_a.post("/accounts/login/", {"username": "", "password": ""})
    for page, heading in (
        (staff_page, "<h1>Platform staff sign-in</h1>"),
        (network_page, "<h1>Sign in to Network A</h1>"),
    ):
        html = page.content.decode()
        assert "theming/sign_in.html" in [t.name for t in page.templates]
        assert heading in html
        assert '<a href="#id_username">This field is required.</a>' in html
        username = re.search(r'<input type="email" name="username"[^>]*>', html)
        assert username is not None
        assert 'autocomplete="email"' in username[0] and 'maxlength="254"' in username[0]
        assert "autofocus" not in username[0]
        assert 'autocomplete="current-password"' in html
    assert "Forgotten your password?" in network_page.content.decode()
    assert "Forgotten your password?" not in staff_page.content.decode()


def test_staff_set_a_plan_with_a_reason_audited_and_only_for_that_network(
    staff_client: Client,
    staff: Member,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    refused = staff_client.post(
        "/console/networks/network-a/plan/", {"plan": "organisation", "reason": " "}, follow=True
    )
    assert "Give a reason" in refused.content.decode()
    network_a.refresh_from_db()
    assert network_a.plan == "community"

    page = staff_client.get("/console/networks/network-a/").content.decode()
    assert 'name="plan"' in page and 'action="/console/networks/network-a/plan/"' in page
    response = staff_client.post(
        "/console/networks/network-a/plan/",
        {"plan": "organisation", "reason": "Complimentary: pilot site"},
    )
    assert response.status_code == 302
    network_a.refresh_from_db()
    network_b.refresh_from_db()
    assert (network_a.plan, network_b.plan) == ("organisation", "community")
    event = AuditEvent.objects.get(verb="network.plan_set")
    assert (event.actor_id, event.reason, event.before, event.after) == (
        staff.pk,
        "Complimentary: pilot site",
        {"plan": "community"},
        {"plan": "organisation"},
    )
    # What the plan unlocks is reachable now: the organiser's domains page takes a claim.
    organiser = make_member(network_a, role=Role.ORGANISER)
    client_a.force_login(organiser)
    claimed = client_a.post("/settings/domains/", {"domain": "timebank.pilot.example"}, follow=True)
    assert "Now add the TXT record" in claimed.content.decode()

    bad = staff_client.post(
        "/console/networks/network-a/plan/", {"plan": "gold", "reason": "x"}, follow=True
    )
    assert "Choose the community or organisation plan" in bad.content.decode()


def test_only_staff_set_a_plan(
    public_client: Client,
    network_a: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    organiser = make_member(network_a, role=Role.ORGANISER)
    client_a.force_login(organiser)
    # An organiser cannot reach the console from their network, nor on the public site.
    assert (
        client_a.post(
            "/console/networks/network-a/plan/", {"plan": "organisation", "reason": "me"}
        ).status_code
        == 404
    )
    response = public_client.post(
        "/console/networks/network-a/plan/", {"plan": "organisation", "reason": "me"}
    )
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    network_a.refresh_from_db()
    assert network_a.plan == "community"
    assert not AuditEvent.objects.filter(verb="network.plan_set").exists()

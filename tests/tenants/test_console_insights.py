"""The staff console's figures across networks: activity, exchanges between networks,
equality tables summed then suppressed; no member-level data; staff only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.insights.selectors import equality
from core.insights.selectors.platform import FederationFlow, platform_insights
from core.insights.services.equality import equality_answers_save
from core.members.models import Member, Role
from kernel.errors import PermissionDenied
from ledger.federation.services import federated_transfer_create, federation_membership_set
from ledger.models import Transfer
from ledger.services import Leg, gift_grant, member_account, transfer_create
from tests.conftest import NetworkClient, upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network

PASSWORD = "a long and unusual staff passphrase"
ANSWERS = {
    "ethnic_group": "white_irish",
    "age_band": "45_54",
    "disability": "no",
    "background": "clerical",
}


@pytest.fixture
def staff(db: None) -> Member:
    return Member.objects.create_user(
        "staff@hexitime.example", PASSWORD, full_name="Sam Staff", is_staff=True
    )


def _people(network: Network, make_member: Callable[..., Member]) -> list[Member]:
    """Eight members who answered: four women, then four men."""
    people = [make_member(network, full_name=f"{network.slug} person {n}") for n in range(8)]
    with tenant_context(network):
        for n, member in enumerate(people):
            gender = "woman" if n < 4 else "man"
            equality_answers_save(actor=member, consent=True, gender=gender, **ANSWERS)
    return people


@pytest.fixture
def two_networks(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> tuple[list[Member], list[Member]]:
    a, b = _people(network_a, make_member), _people(network_b, make_member)
    with tenant_context(network_a):
        gift_grant(member=a[0])
        gift_grant(member=a[4])
        legs = [Leg(member_account(a[4]), -90), Leg(member_account(a[1]), 90)]
        transfer_create(idempotency_key="x", kind=Transfer.Kind.EXCHANGE, legs=legs)
    upgrade(network_a, network_b)  # federation comes with the paid plan
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, open_to_all=True)
    # A member of B helps a member of A for an hour.
    federated_transfer_create(
        idempotency_key="fed",
        payer_network=network_a,
        payer_member_id=a[0].pk,
        payee_network=network_b,
        payee_member_id=b[7].pk,
        minutes=60,
    )
    return a, b


def test_staff_see_each_network_the_flows_between_them_and_summed_equality(
    public_client: Client,
    staff: Member,
    network_a: Network,
    network_b: Network,
    two_networks: tuple[list[Member], list[Member]],
) -> None:
    public_client.force_login(staff)
    page = public_client.get("/console/insights/")
    assert page.status_code == 200
    insights = page.context["insights"]
    rows = {
        (n.network.slug, n.members, n.active, n.given, n.to_other_networks, n.from_other_networks)
        for n in insights.networks
    }
    assert rows == {("network-a", 8, 3, 90, 0, 60), ("network-b", 8, 1, 60, 60, 0)}
    assert insights.flows == [FederationFlow(network_b, network_a, 60, 1)]
    assert insights.matrix_networks == [network_a, network_b]
    assert insights.matrix == [[None, 0], [60, None]]

    # Four women in each network: hidden in each network's own report, 8 once summed
    # (shown to the nearest 5).
    gender = insights.equality[1]
    by_label = {row.label: row for row in gender.rows}
    assert (by_label["Woman"].members, by_label["Man"].members) == (10, 10)
    assert by_label["All members"].members == 15  # 16
    assert by_label["Woman"].active is None  # 2 of the 8 women took part

    html = page.content.decode()
    assert (
        '<caption id="matrix-caption">' in html
        and 'data-css-vars=\'{"--shade": "0.35"}\'>1</td>' in html
    )
    assert '<caption id="platform-gender-caption">Gender</caption>' in html
    # Counts and hours only: no member's name or address anywhere on the page.
    for member in [*two_networks[0], *two_networks[1]]:
        assert member.full_name not in html and member.email not in html


def test_the_figures_cost_the_same_queries_for_two_networks_or_five(
    staff: Member,
    make_network: Callable[..., Network],
    network_a: Network,
    network_b: Network,
    two_networks: tuple[list[Member], list[Member]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with CaptureQueriesContext(connection) as two:
        platform_insights(actor=staff)
    for n in range(3):
        make_network(f"extra-{n}")
    with CaptureQueriesContext(connection) as five:
        insights = platform_insights(actor=staff)
    assert len(insights.networks) == 5

    def reads(captured: CaptureQueriesContext) -> list[str]:
        # Not counting a search_path reset the connection may or may not need first.
        return [q["sql"][:60] for q in captured.captured_queries if not q["sql"].startswith("SET")]

    # The networks, every schema in one statement, the federation ledger.
    assert len(reads(five)) == len(reads(two)) == 3, reads(five)
    # Past SCHEMAS_PER_QUERY networks, one more statement per batch; the same figures.
    monkeypatch.setattr(equality, "SCHEMAS_PER_QUERY", 2)
    with CaptureQueriesContext(connection) as batched:
        again = platform_insights(actor=staff)
    assert len(reads(batched)) == 1 + 3 + 1
    assert (again.networks, again.equality) == (insights.networks, insights.equality)


def test_non_staff_and_network_organisers_are_refused(
    public_client: Client,
    network_a: Network,
    make_member: Callable[..., Member],
    two_networks: tuple[list[Member], list[Member]],
) -> None:
    assert public_client.get("/console/insights/")["Location"].startswith("/console/login/")
    plain = Member.objects.create_user("plain@example.org", PASSWORD, full_name="Plain")
    public_client.force_login(plain)
    assert public_client.get("/console/insights/").status_code == 403
    with pytest.raises(PermissionDenied):
        platform_insights(actor=plain)

    organiser = make_member(network_a, password=PASSWORD, role=Role.ORGANISER)
    with tenant_context(network_a):
        assert organiser.has_perm("insights.view_equality_report")
        with pytest.raises(PermissionDenied):
            platform_insights(actor=organiser)
    # Their own network's host does not serve the console...
    organiser_client = NetworkClient(network_a)
    organiser_client.force_login(organiser)
    assert organiser_client.get("/console/insights/").status_code == 404
    # ...their session is no sign-in on the public site...
    public = Client(HTTP_HOST=public_client.defaults["HTTP_HOST"])
    public.cookies = organiser_client.cookies
    assert public.get("/console/insights/")["Location"].startswith("/console/login/")
    # ...and their password is not a staff account's.
    login = public.post("/console/login/", {"username": organiser.email, "password": PASSWORD})
    assert login.status_code == 200 and "_auth_user_id" not in public.session

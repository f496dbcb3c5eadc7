"""Plan limits: the community plan's member cap, refused with a plain message and nothing
written, shown to organisers on their pages and in the API."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.db import transaction
from django.test import override_settings
from django_tenants.utils import tenant_context

from core.joining.services import member_decline, member_join
from core.members.models import Member, MemberState, Role
from core.members.places import plan_member_place_take
from hexitime.celery import app
from kernel.db import connection
from tenants.plans import PlanLimitReached
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from pytest_django import DjangoCaptureOnCommitCallbacks

    from tenants.models import Network
    from tests.conftest import NetworkClient

PASSWORD = "kindly-staple-49"
FULL = (
    "Network A is full: the free community plan has room for 3 members. "
    "Please ask one of its organisers to upgrade to the organisation plan."
)

pytestmark = pytest.mark.usefixtures("_three_members_allowed")


@pytest.fixture
def _three_members_allowed() -> Iterator[None]:
    with override_settings(HEXITIME_COMMUNITY_MEMBER_LIMIT=3):
        yield


@pytest.fixture
def organiser(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, full_name="Olivia Organiser", role=Role.ORGANISER)


def _fill(network: Network, make_member: Callable[..., Member], count: int) -> list[Member]:
    return [make_member(network, full_name=f"Filler {n}") for n in range(count)]


def _join(email: str) -> Member:
    member = member_join(email=email, full_name="Nia Nowak", password=PASSWORD)
    assert member is not None  # a new address
    return member


def test_a_full_network_refuses_to_join_and_writes_nothing(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    _fill(network_a, make_member, 2)
    with tenant_context(network_a):
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(PlanLimitReached) as refused,
        ):
            _join("nia@nhs.net")
        assert refused.value.message == FULL
        assert refused.value.extra == {"code": "network_full"}
        assert callbacks == []  # no verification email queued
        assert not Member.objects.filter(email="nia@nhs.net").exists()
        assert Member.objects.count() == 3
    # Another network's room is its own.
    with tenant_context(network_b):
        assert _join("nia@nhs.net").state == MemberState.UNVERIFIED


def test_declined_requests_free_their_place(
    network_a: Network, organiser: Member, make_member: Callable[..., Member]
) -> None:
    waiting = make_member(network_a, state=MemberState.AWAITING_APPROVAL)
    _fill(network_a, make_member, 1)
    with tenant_context(network_a):
        with pytest.raises(PlanLimitReached):
            _join("nia@nhs.net")
        member_decline(actor=organiser, member=waiting, reason="Not a member of staff here.")
        assert _join("nia@nhs.net").email == "nia@nhs.net"


def test_the_organisation_plan_has_no_member_limit(
    network_a: Network, organiser: Member, make_member: Callable[..., Member]
) -> None:
    _fill(network_a, make_member, 2)
    upgrade(network_a)
    with tenant_context(network_a):
        for n in range(3):
            _join(f"person{n}@nhs.net")
        assert Member.objects.count() == 6


def test_the_join_page_and_api_say_the_network_is_full(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    _fill(network_a, make_member, 2)
    page = client_a.get("/join/")
    assert page.status_code == 200
    assert FULL in page.content.decode()
    assert b'name="password"' not in page.content  # no form to fill in for nothing
    # A form sent anyway (opened before the last place went) is refused the same way.
    sent = client_a.post(
        "/join/", {"full_name": "Nia Nowak", "email": "nia@nhs.net", "password": PASSWORD}
    )
    assert FULL in sent.content.decode()
    api = client_a.post(
        "/api/v1/members/join/",
        {"full_name": "Nia Nowak", "email": "nia@nhs.net", "password": PASSWORD},
        content_type="application/json",
    )
    assert api.status_code == 403
    assert api.json() == {"detail": FULL, "code": "network_full"}
    with tenant_context(network_a):
        assert not Member.objects.filter(email="nia@nhs.net").exists()
    # Network B, with room, still shows its form.
    assert b'name="password"' in client_b.get("/join/").content


def test_organisers_see_how_close_the_network_is_to_its_limit(
    network_a: Network,
    network_b: Network,
    organiser: Member,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    client_a.force_login(organiser)
    _fill(network_a, make_member, 1)
    roles = client_a.get("/members/roles/").content.decode()
    assert "2 of 3 members" in roles and "Only 1 place left" in roles
    home = client_a.get("/").content.decode()
    assert "2 of 3 members" in home and "Plan and billing" in home
    _fill(network_a, make_member, 1)
    for path in ("/members/roles/", "/members/approvals/", "/settings/billing/", "/"):
        page = client_a.get(path).content.decode()
        assert "3 of 3 members" in page, path
        assert "The network is full" in page, path
    assert client_a.get("/api/v1/plan/").json() == {
        "plan": "community",
        "plan_label": "Community (free)",
        "members": 3,
        "member_limit": 3,
        "places_left": 0,
        "federation": False,
        "custom_domains": False,
    }
    billing = client_a.get("/settings/billing/").content.decode()
    assert "Up to 3 members" in billing and "Community (free) (your plan)" in billing

    # B's organiser sees B's numbers, never A's.
    boss_b = make_member(network_b, role=Role.ORGANISER)
    client_b.force_login(boss_b)
    assert client_b.get("/api/v1/plan/").json()["members"] == 1
    assert "1 of 3 members" in client_b.get("/members/roles/").content.decode()

    upgrade(network_a)
    plan = client_a.get("/api/v1/plan/").json()
    assert (plan["member_limit"], plan["places_left"], plan["federation"]) == (None, None, True)
    assert "no member limit" in client_a.get("/settings/billing/").content.decode()


def test_members_who_are_not_organisers_cannot_read_the_plan(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    assert client_a.get("/api/v1/plan/").status_code == 403
    assert "of 3 members" not in client_a.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_join_waits_for_one_in_progress_and_is_counted_after_it(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    """The last place is being taken by a join whose transaction has not committed yet:
    a second join waits for it, then finds the network full."""
    _fill(network_a, make_member, 2)
    outcomes: list[str] = []

    def second_join() -> None:
        connection.set_tenant(network_a)
        try:
            _join("second@nhs.net")
            outcomes.append("joined")
        except PlanLimitReached:
            outcomes.append("refused")
        finally:
            connection.close()

    with tenant_context(network_a), transaction.atomic():
        plan_member_place_take()
        Member.objects.create_user("first@nhs.net", PASSWORD, full_name="First")
        racer = threading.Thread(target=second_join)
        racer.start()
        racer.join(timeout=1)
        assert racer.is_alive(), outcomes  # waiting for the first join's transaction
    racer.join(timeout=30)
    app.control.purge()  # nothing should be queued; never leave a message for later tests
    assert outcomes == ["refused"]
    with tenant_context(network_a):
        assert Member.objects.filter(email="first@nhs.net").exists()
        assert not Member.objects.filter(email="second@nhs.net").exists()


def test_a_full_network_refuses_registered_and_new_addresses_alike(
    network_a: Network, organiser: Member, make_member: Callable[..., Member]
) -> None:
    (filler, _) = _fill(network_a, make_member, 2)
    with tenant_context(network_a):
        refusals = []
        for email in (filler.email, "new@nhs.net"):
            with pytest.raises(PlanLimitReached) as refused:
                _join(email)
            refusals.append(refused.value.message)
        assert refusals == [FULL, FULL]


def test_unverified_joins_take_no_place_until_verified(
    network_a: Network, organiser: Member, make_member: Callable[..., Member]
) -> None:
    from core.joining.services import member_verify_email, verification_token
    from core.members.services import UNVERIFIED_GRACE_DAYS, members_unverified_purge

    _fill(network_a, make_member, 1)  # with the organiser: one place left
    with tenant_context(network_a):
        first, second = _join("first@nhs.net"), _join("second@nhs.net")
        assert Member.objects.count() == 4  # two unverified requests hold no place
        assert member_verify_email(token=verification_token(first)).state == MemberState.ACTIVE
        with pytest.raises(PlanLimitReached):
            member_verify_email(token=verification_token(second))
        second.refresh_from_db()
        assert second.state == MemberState.UNVERIFIED
        # A request never verified is purged after the grace period.
        assert members_unverified_purge() == 0
        Member.objects.filter(pk=second.pk).update(
            date_joined=second.date_joined - timedelta(days=UNVERIFIED_GRACE_DAYS + 1)
        )
        assert members_unverified_purge() == 1
        assert list(Member.objects.filter(state=MemberState.UNVERIFIED)) == []
        assert Member.objects.filter(pk=first.pk).exists()

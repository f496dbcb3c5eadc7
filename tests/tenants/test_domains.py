"""Custom domains: paid plan only, routed once a DNS TXT record proves control."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client, override_settings

from core.audit.models import AuditEvent
from core.members.models import Role
from tenants.models import Domain, DomainClaim, Network
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from core.members.models import Member
    from tests.conftest import NetworkClient

TXT_RECORDS: dict[str, list[str]] = {}


class FakeDnsTxtResolver:
    """The TxtResolver the tests drive: answers from TXT_RECORDS."""

    def txt_records(self, name: str) -> list[str]:
        return TXT_RECORDS.get(name, [])


@pytest.fixture(autouse=True)
def _dns() -> Iterator[None]:
    TXT_RECORDS.clear()
    with override_settings(HEXITIME_TXT_RESOLVER="tests.tenants.test_domains.FakeDnsTxtResolver"):
        yield
    TXT_RECORDS.clear()


def _organiser(network: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network, role=Role.ORGANISER)


def test_free_plan_is_told_custom_domains_need_the_paid_plan(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(_organiser(network_a, make_member))
    page = client_a.post("/settings/domains/", {"domain": "timebank.example.org"}, follow=True)
    assert (
        "Custom domains come with the organisation plan; Network A is on the Community (free) "
        "plan. An organiser can upgrade under Plan and billing."
    ) in page.content.decode()
    assert not DomainClaim.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_claim_cannot_be_verified_once_the_network_left_the_paid_plan(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    upgrade(network_a)
    client_a.force_login(_organiser(network_a, make_member))
    client_a.post("/settings/domains/", {"domain": "timebank.example.org"})
    claim = DomainClaim.objects.get()
    Network.objects.filter(pk=network_a.pk).update(plan="community")  # subscription cancelled
    TXT_RECORDS["_hexitime-verify.timebank.example.org"] = [f"hexitime-verify={claim.token}"]

    page = client_a.post("/settings/domains/", {"action": "verify", "claim": claim.pk}, follow=True)

    assert "Custom domains come with the organisation plan" in page.content.decode()
    claim.refresh_from_db()
    assert claim.verified_at is None
    assert not Domain.objects.filter(domain="timebank.example.org").exists()
    assert not AuditEvent.objects.filter(verb="domain.verify").exists()


def test_a_domain_routes_only_once_its_txt_record_is_found(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    upgrade(network_a)
    client_a.force_login(_organiser(network_a, make_member))
    client_a.post("/settings/domains/", {"domain": "TimeBank.Example.org."})
    claim = DomainClaim.objects.get()
    assert claim.domain == "timebank.example.org"
    page = client_a.get("/settings/domains/").content.decode()
    assert "_hexitime-verify.timebank.example.org" in page
    assert f"hexitime-verify={claim.token}" in page

    custom = Client(HTTP_HOST="timebank.example.org")
    assert custom.get("/").status_code == 404
    refused = client_a.post(
        "/settings/domains/", {"action": "verify", "claim": claim.pk}, follow=True
    )
    assert "No TXT record" in refused.content.decode()
    TXT_RECORDS["_hexitime-verify.timebank.example.org"] = ["v=spf1 -all", "hexitime-verify=wrong"]
    client_a.post("/settings/domains/", {"action": "verify", "claim": claim.pk})
    assert custom.get("/").status_code == 404

    TXT_RECORDS["_hexitime-verify.timebank.example.org"].append(f"hexitime-verify={claim.token}")
    client_a.post("/settings/domains/", {"action": "verify", "claim": claim.pk})
    served = custom.get("/")
    assert served.status_code == 200
    assert served.context["network"].schema_name == network_a.schema_name
    assert Domain.objects.get(domain="timebank.example.org").is_primary is False


def test_another_network_cannot_claim_or_verify_it(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    upgrade(network_a, network_b)
    client_a.force_login(_organiser(network_a, make_member))
    client_a.post("/settings/domains/", {"domain": "timebank.example.org"})
    claim = DomainClaim.objects.get()
    TXT_RECORDS["_hexitime-verify.timebank.example.org"] = [f"hexitime-verify={claim.token}"]

    client_b.force_login(_organiser(network_b, make_member))
    taken = client_b.post("/settings/domains/", {"domain": "timebank.example.org"}, follow=True)
    assert "“timebank.example.org” is already claimed." in taken.content.decode()
    other = client_b.post(
        "/settings/domains/", {"action": "verify", "claim": claim.pk}, follow=True
    )
    assert "No such domain." in other.content.decode()
    claim.refresh_from_db()
    assert claim.verified_at is None
    assert not Domain.objects.filter(domain="timebank.example.org").exists()


def test_plain_members_cannot_manage_domains(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    assert client_a.get("/settings/domains/").status_code == 404

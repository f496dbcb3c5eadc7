"""Custom-domain verification through the real resolver (tenants.services.domains.DnsTxtResolver,
dnspython) against a tiny DNS server that the test runs on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from django.test import Client, override_settings

from core.members.models import Role
from tenants.models import Domain, DomainClaim
from tenants.services.domains import DnsTxtResolver, DomainRefused
from tests.conftest import upgrade

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


class TinyDnsServer:
    """Answers TXT queries over UDP from `records` (name -> strings; each string one TXT
    record, a tuple one record of several strings). Other names are NXDOMAIN, other types
    get an empty answer. With `silent`, it reads queries and answers none."""

    def __init__(self) -> None:
        self.records: dict[str, list[str | tuple[str, ...]]] = {}
        self.queries: list[tuple[str, str]] = []
        self.silent = False
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.address = "{}:{}".format(*self.socket.getsockname())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> TinyDnsServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, client = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            self.queries.append((name, dns.rdatatype.to_text(question.rdtype)))
            if self.silent:
                continue
            self.socket.sendto(self._answer(query, name, question.rdtype).to_wire(), client)

    def _answer(self, query: dns.message.Message, name: str, rdtype: int) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdtype == dns.rdatatype.TXT:
            texts = [
                " ".join(f'"{part}"' for part in ((r,) if isinstance(r, str) else r))
                for r in self.records[name]
            ]
            response.answer.append(
                dns.rrset.from_text_list(name + ".", 300, dns.rdataclass.IN, "TXT", texts)
            )
        return response


@pytest.fixture
def dns_server() -> Iterator[TinyDnsServer]:
    with (
        TinyDnsServer() as server,
        override_settings(
            HEXITIME_TXT_RESOLVER="tenants.services.domains.DnsTxtResolver",
            HEXITIME_DNS_NAMESERVERS=server.address,
            HEXITIME_DNS_TIMEOUT=1,
        ),
    ):
        yield server


def test_the_resolver_reads_txt_records_from_the_configured_server(
    dns_server: TinyDnsServer,
) -> None:
    dns_server.records["_hexitime-verify.example.org"] = [
        "v=spf1 -all",
        ("hexitime-verify=", "split-into-two-strings"),  # one record, two strings
    ]
    resolver = DnsTxtResolver()
    assert sorted(resolver.txt_records("_hexitime-verify.example.org")) == [
        "hexitime-verify=split-into-two-strings",
        "v=spf1 -all",
    ]
    assert resolver.txt_records("_hexitime-verify.nowhere.example") == []  # NXDOMAIN
    assert dns_server.queries == [
        ("_hexitime-verify.example.org", "TXT"),
        ("_hexitime-verify.nowhere.example", "TXT"),
    ]


def test_a_server_that_does_not_answer_is_a_clear_refusal(dns_server: TinyDnsServer) -> None:
    dns_server.silent = True
    with pytest.raises(DomainRefused, match=r"^The DNS lookup timed out\. Please try again\.$"):
        DnsTxtResolver().txt_records("_hexitime-verify.example.org")
    assert dns_server.queries  # it did ask


def test_an_organiser_verifies_a_domain_through_real_dns(
    dns_server: TinyDnsServer,
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
) -> None:
    upgrade(network_a)
    client_a.force_login(make_member(network_a, role=Role.ORGANISER))
    client_a.post("/settings/domains/", {"domain": "timebank.example.org"})
    claim = DomainClaim.objects.get()

    refused = client_a.post(
        "/settings/domains/", {"action": "verify", "claim": claim.pk}, follow=True
    )
    assert "No TXT record" in refused.content.decode()
    assert dns_server.queries == [("_hexitime-verify.timebank.example.org", "TXT")]
    # A record naming another claim's token proves nothing.
    dns_server.records["_hexitime-verify.timebank.example.org"] = ["hexitime-verify=someone-else"]
    client_a.post("/settings/domains/", {"action": "verify", "claim": claim.pk})
    assert not Domain.objects.filter(domain="timebank.example.org").exists()

    dns_server.records["_hexitime-verify.timebank.example.org"].append(
        f"hexitime-verify={claim.token}"
    )
    done = client_a.post("/settings/domains/", {"action": "verify", "claim": claim.pk}, follow=True)
    assert "timebank.example.org now leads to your network." in done.content.decode()
    page = Client(HTTP_HOST="timebank.example.org").get("/")
    assert page.status_code == 200
    assert page.context["network"].schema_name == network_a.schema_name
    assert page.context["network"].schema_name != network_b.schema_name

"""The safeguarding contact: set by organisers, shown on every exchange page (partner
members see the host network's), with an empty state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.exchanges import services as x

if TYPE_CHECKING:
    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

JSON = "application/json"


def test_organisers_name_the_contact_and_every_exchange_page_shows_it(
    network_a: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    client_a: NetworkClient,
) -> None:
    _alice, bob, olive, _ = people
    with tenant_context(network_a):
        exchange = x.exchange_respond(actor=bob, listing=offer, message="Hello")
    client_a.force_login(bob)
    empty = client_a.get(f"/exchanges/{exchange.pk}/")
    assert b"has not named a safeguarding contact yet" in empty.content
    assert b"Name the network's safeguarding contact" not in empty.content
    assert client_a.get("/exchanges/organiser/safeguarding/").status_code == 403
    put = client_a.put("/api/v1/exchanges/safeguarding/", {"name": "Me"}, content_type=JSON)
    assert put.status_code == 403

    client_a.force_login(olive)
    settings_page = client_a.get("/exchanges/organiser/safeguarding/")
    assert b"No safeguarding contact is named yet" in settings_page.content
    assert b"/exchanges/organiser/safeguarding/" in client_a.get("/").content
    bad = client_a.post("/exchanges/organiser/safeguarding/", {"name": "Sam Patel"})
    assert bad.status_code == 400 and b"email address or a phone number" in bad.content
    saved = client_a.post(
        "/exchanges/organiser/safeguarding/",
        {
            "name": "Sam Patel",
            "role": "Named nurse, safeguarding adults",
            "email": "Safeguarding@Trust.nhs.uk",
            "phone": "",
            "note": "Weekdays 9 to 5",
        },
    )
    assert saved.status_code == 302
    with tenant_context(network_a):
        event = AuditEvent.objects.get(verb="exchange.safeguarding_contact")
        assert (event.before or {})["name"] == ""
        assert (event.after or {})["email"] == "safeguarding@trust.nhs.uk"

    client_a.force_login(bob)
    page = client_a.get(f"/exchanges/{exchange.pk}/")
    assert b"Contact Sam Patel" in page.content
    assert b"mailto:safeguarding@trust.nhs.uk" in page.content
    assert client_a.get("/api/v1/exchanges/safeguarding/").json()["name"] == "Sam Patel"

    client_a.force_login(olive)
    bad_email = client_a.put(
        "/api/v1/exchanges/safeguarding/",
        {"name": "Sam", "email": "not an address"},
        content_type=JSON,
    )
    assert bad_email.status_code == 400 and bad_email.json()["field"] == "email"
    cleared = client_a.put("/api/v1/exchanges/safeguarding/", {"name": ""}, content_type=JSON)
    assert cleared.status_code == 200 and cleared.json()["email"] == ""


def test_a_partner_member_sees_the_host_networks_contact_and_b_cannot_change_a(
    network_a: Network,
    network_b: Network,
    people: tuple[Member, Member, Member, Member],
    offer: Listing,
    partners: Member,
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    _alice, _, olive, _ = people
    ben = partners
    with tenant_context(network_a):
        offer.visibility = "partners"
        offer.save(update_fields=["visibility"])
        x.safeguarding_contact_set(actor=olive, name="Sam Patel", phone="01865 000000")
        exchange = x.exchange_respond(
            actor=ben, listing=offer, message="Hi", actor_network=network_b
        )
    client_b.force_login(ben)
    page = client_b.get(f"/exchanges/partner/{network_a.slug}/{exchange.pk}/")
    assert page.status_code == 200
    assert b"Contact Sam Patel" in page.content and b"Network A, which hosts" in page.content
    # B's own contact is B's: A's is not B's to read or change.
    assert client_b.get("/api/v1/exchanges/safeguarding/").json()["name"] == ""
    assert (
        client_b.put(
            "/api/v1/exchanges/safeguarding/", {"name": "X", "phone": "1"}, content_type=JSON
        ).status_code
        == 403
    )
    with tenant_context(network_a):
        assert x.exchange_settings().safeguarding_name == "Sam Patel"

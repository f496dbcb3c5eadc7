"""A listing's card on the listings page (core.listings.templatetags.listing_cards): its
kind, its title linked to it, its category, format and length, and who posted it (not on
the public page), escaped and in the member's language; another network's member sees
none of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template import Context, Template
from django.urls import set_urlconf
from django.utils import translation
from django_tenants.utils import tenant_context

from core.listings.services import listing_create

from .test_listings import SEPSIS

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.listings.models import Listing
    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

CARD = "{% load listing_cards %}{% listing_card listing hide_names %}"


def _card(listing: Listing, *, hide_names: bool = False) -> str:
    set_urlconf("hexitime.urls_tenant")
    try:
        return Template(CARD).render(Context({"listing": listing, "hide_names": hide_names}))
    finally:
        set_urlconf(None)


def test_a_card_shows_the_listing_escaped_and_in_the_members_language(
    network_a: Network, make_member: Callable[..., Member]
) -> None:
    owner = make_member(network_a, full_name="Ann <i>O'Neil</i> & co")
    with tenant_context(network_a):
        listing = listing_create(actor=owner, **SEPSIS)
        # Services refuse markup; a card escapes whatever it is given all the same.
        listing.title = 'Sepsis <script>alert("x")</script>'
        card = _card(listing)
        assert card == (
            '<li class="card">\n'
            '  <p class="tag">Offer of help</p>\n'
            f'  <h3><a href="/listings/{listing.pk}/">'
            "Sepsis &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</a></h3>\n"
            "  <p>Teaching · In person · about 45 minutes · "
            "Ann &lt;i&gt;O&#x27;Neil&lt;/i&gt; &amp; co</p>\n"
            "</li>\n"
        )
        assert "Ann" not in _card(listing, hide_names=True)
        with translation.override("cy"):
            welsh = _card(listing)
        assert "tua 45 munud" in welsh and "Teaching" not in welsh
        assert welsh.count("&lt;script&gt;") == 1


def test_the_listings_page_shows_its_own_networks_cards_alone(
    network_a: Network,
    network_b: Network,
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    owner = make_member(network_a, full_name="Ann Owen")
    with tenant_context(network_a):
        listing = listing_create(actor=owner, **SEPSIS)
    client_a.force_login(make_member(network_a))
    client_b.force_login(make_member(network_b))
    page = client_a.get("/listings/?q=sepsis").content.decode()
    assert page.count('<li class="card">') == 1
    assert f'href="/listings/{listing.pk}/"' in page and "Ann Owen" in page
    theirs = client_b.get("/listings/?q=sepsis").content.decode()
    assert '<li class="card">' not in theirs
    assert SEPSIS["title"] not in theirs and "Ann Owen" not in theirs

from __future__ import annotations

from typing import TYPE_CHECKING

from django_tenants.utils import tenant_context

from core.listings.services import listing_create

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient


def test_the_api_filters_listings_by_format(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    """`format` is a listing filter; DRF must not read it as a renderer (that was a 404)."""
    alice = make_member(network_a)
    with tenant_context(network_a):
        for fmt in ("video", "in_person"):
            listing_create(
                actor=alice,
                kind="offer",
                title=f"Coaching by {fmt}",
                description="Coaching for new band 7s.",
                category="coaching",
                format=fmt,
                duration_minutes=60,
            )
    client_a.force_login(alice)
    found = client_a.get("/api/v1/listings/?q=coaching&format=video")
    assert found.status_code == 200, found.content
    assert [r["format"] for r in found.json()["results"]] == ["video"]

"""Finding listings: full-text search ranked by PostgreSQL, filters and suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Q, QuerySet
from django_tenants.utils import tenant_context

from core.members.models import Member
from core.members.selectors import blocked_member_ids_query
from ledger.federation.selectors import partner_network_ids
from tenants.models import Network

from .models import Listing


def listing_search(
    *,
    query: str = "",
    kind: str = "",
    category: str = "",
    format: str = "",
    profession: str = "",
    viewer: Member | None = None,
) -> QuerySet[Listing]:
    """Open, visible listings matching the filters, best matches first when searching;
    for a `viewer`, none of members either side blocked.

    Two queries whatever the number of results: owners are fetched together for the page
    after ranking and LIMIT, not joined to every match before the sort (a join there costs
    a hash of the whole member table on broad searches).
    """
    listings = Listing.objects.filter(
        status=Listing.Status.OPEN, hidden_reason=""
    ).prefetch_related("owner")
    if viewer is not None:
        listings = listings.exclude(owner_id__in=blocked_member_ids_query(viewer))
    if kind:
        listings = listings.filter(kind=kind)
    if category:
        listings = listings.filter(category=category)
    if format:
        listings = listings.filter(Q(format=format) | Q(format=Listing.Format.ANY))
    if profession:
        listings = listings.filter(owner__profession=profession)
    if query.strip():
        search = SearchQuery(query, search_type="websearch", config="english")
        listings = (
            listings.filter(search_vector=search)
            .annotate(rank=SearchRank(F("search_vector"), search))
            .order_by("-rank", "-created_at")
        )
    return listings


def listings_matching_skills(*, member: Member) -> QuerySet[Listing]:
    """Open listings by others that mention the member's skills, best matches first."""
    if not member.skills:
        return Listing.objects.none()
    terms = " OR ".join(f'"{skill}"' for skill in member.skills)
    return listing_search(query=terms, viewer=member).exclude(owner=member)


def listing_suggestions(*, member: Member, limit: int = 5) -> QuerySet[Listing]:
    return listings_matching_skills(member=member)[:limit]


def member_listings(*, member: Member) -> QuerySet[Listing]:
    return Listing.objects.filter(owner=member)


@dataclass(frozen=True)
class PartnerListing:
    network: Network
    listing: Listing
    owner_name: str  # "name (network)": all a partner network learns of the owner


def partner_listing_search(
    *, network: Network, query: str = "", kind: str = "", category: str = "", format: str = "",
    limit: int = 10,
) -> list[PartnerListing]:  # fmt: skip
    """Open listings that partner networks share with partners, matching the filters: up
    to `limit` from each partner, read inside each partner's schema."""
    found: list[PartnerListing] = []
    partners = Network.objects.filter(pk__in=partner_network_ids(network)).order_by("name")
    for partner in partners:
        with tenant_context(partner):
            matches = listing_search(query=query, kind=kind, category=category, format=format)
            shared = matches.filter(visibility=Listing.Visibility.PARTNERS)[:limit]
            found.extend(
                PartnerListing(partner, listing, f"{listing.owner.full_name} ({partner.name})")
                for listing in shared
            )
    return found

"""Finding listings: full-text search ranked by PostgreSQL, filters and suggestions."""

from __future__ import annotations

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import F, Q, QuerySet

from core.members.models import Member

from .models import Listing


def listing_search(
    *,
    query: str = "",
    kind: str = "",
    category: str = "",
    format: str = "",
    profession: str = "",
) -> QuerySet[Listing]:
    """Open, visible listings matching the filters, best matches first when searching.

    Two queries whatever the number of results: owners are fetched together for the page
    after ranking and LIMIT, not joined to every match before the sort (a join there costs
    a hash of the whole member table on broad searches).
    """
    listings = Listing.objects.filter(
        status=Listing.Status.OPEN, hidden_reason=""
    ).prefetch_related("owner")
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


def listing_suggestions(*, member: Member, limit: int = 5) -> QuerySet[Listing]:
    """Open listings by others that mention the member's skills, best matches first."""
    if not member.skills:
        return Listing.objects.none()
    terms = " OR ".join(f'"{skill}"' for skill in member.skills)
    return listing_search(query=terms).exclude(owner=member)[:limit]


def member_listings(*, member: Member) -> QuerySet[Listing]:
    return Listing.objects.filter(owner=member)

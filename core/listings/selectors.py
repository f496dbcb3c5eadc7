"""Finding listings: full-text search ranked by PostgreSQL, filters, and the one skills
match (`skill_matches`) behind suggestions, the weekly digest and a request's matches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from django.db.models import QuerySet
from django_tenants.utils import tenant_context

from core.members.models import Block, Member, MemberState
from core.members.selectors import (
    member_named,
    profile_shown_in_full,
)
from core.notifications.models import Kind
from core.notifications.selectors import members_not_told
from kernel.cache import cache_kept
from kernel.db import connection, instance_from_row
from ledger.federation.selectors import partner_network_ids
from tenants.models import Network

from .models import Listing, ResponseInvitation

# What search shows and how, one statement a page: the listings matching (`matches`: each
# one's id, when it was posted and its rank), how many there are, and the page of them read
# whole with their owners' names. A search ranks its matches once, into `matches`
# (MATERIALIZED), which the total and the page both read; browsing without words, nothing
# is ranked and `matches` is read into each (NOT MATERIALIZED), where the page can be
# read off the newest first. One statement either way: the ORM's search spent 5 ms of CPU
# building and compiling its two queries on every search page, to run them in 0.6, and
# ranked a broad search's 2,500 matches once for the total and again for the page.
# Filters not asked for are no-ops (`'' = ''`): statements are bound client side, so
# PostgreSQL folds them away before it plans.
_LISTINGS_SHOWN = """
WITH matches AS {materialized} (
    SELECT listing.id, listing.created_at, {rank} AS rank
      FROM listings_listing listing{words}
     WHERE {matching}listing.status = %(open)s AND listing.hidden_reason = ''
       AND (%(kind)s = '' OR listing.kind = %(kind)s)
       AND (%(category)s = '' OR listing.category = %(category)s)
       AND (%(format)s = '' OR listing.format IN (%(format)s, %(any_format)s))
       AND (%(profession)s = '' OR listing.owner_id IN (
                SELECT member.id FROM members_member member
                 WHERE member.profession = %(profession)s))
       AND (%(visibility)s = '' OR listing.visibility = %(visibility)s)
       AND (%(viewer)s::bigint IS NULL OR listing.owner_id NOT IN (
                SELECT CASE WHEN block.blocker_id = %(viewer)s THEN block.blocked_id
                            ELSE block.blocker_id END
                  FROM members_block block
                 WHERE block.blocker_id = %(viewer)s OR block.blocked_id = %(viewer)s))
)
SELECT total.n,
       page.id, page.owner_id, page.kind, page.title, page.description, page.category,
       page.format, page.location, page.duration_minutes, page.available_from,
       page.available_until, page.visibility, page.status, page.hidden_reason,
       page.created_at, page.updated_at, page.match_pending, page.match_queued_at,
       page.full_name
  FROM (SELECT count(*) AS n FROM matches) total
  LEFT JOIN LATERAL (
    SELECT listing.*, owner.full_name, shown.rank
      FROM (SELECT * FROM matches
             ORDER BY rank DESC, created_at DESC, id DESC
            OFFSET %(offset)s LIMIT %(limit)s) shown
      JOIN listings_listing listing ON listing.id = shown.id
      JOIN members_member owner ON owner.id = listing.owner_id
  ) page ON true
 ORDER BY page.rank DESC, page.created_at DESC, page.id DESC
"""
LISTINGS_SEARCHED = _LISTINGS_SHOWN.format(
    materialized="MATERIALIZED",
    rank="ts_rank(listing.search_vector, words.query)",
    words=", websearch_to_tsquery('english', %(query)s) AS words (query)",
    matching="listing.search_vector @@ words.query AND ",
)
LISTINGS_BROWSED = _LISTINGS_SHOWN.format(
    materialized="NOT MATERIALIZED", rank="0", words="", matching=""
)
# The listing's columns the statements read (all but its search vector), in the model's
# field order, which is how from_db takes them.
LISTING_COLUMNS = [
    field.attname for field in Listing._meta.concrete_fields if field.name != "search_vector"
]


class ListingSearch(Sequence[Listing]):
    """The listings a search shows, best matches first when it has words (else the newest
    first), read a page at a time with their total (`CountingPaginator` pages it in one
    statement) and with each owner's name, all a result shows of them. Each use reads
    afresh: iterating reads them all, `len()` counts them."""

    def __init__(self, *, query: str, params: dict[str, Any]) -> None:
        self._sql = LISTINGS_SEARCHED if query.strip() else LISTINGS_BROWSED
        self._params = {**params, "query": query}

    def rows_counted(self, offset: int, limit: int | None) -> tuple[list[Listing], int]:
        with connection.cursor() as cursor:
            cursor.execute(self._sql, {**self._params, "offset": offset, "limit": limit})
            rows = cursor.fetchall()
        listings = []
        for _total, *fields, owner_name in rows:
            if fields[0] is None:  # past the last match: the total alone
                continue
            listing = instance_from_row(Listing, fields, LISTING_COLUMNS)
            listing.owner = member_named(listing.owner_id, owner_name)
            listings.append(listing)
        return listings, rows[0][0]

    @overload
    def __getitem__(self, index: int) -> Listing: ...

    @overload
    def __getitem__(self, index: slice) -> list[Listing]: ...

    def __getitem__(self, index: int | slice) -> Listing | list[Listing]:
        """A listing, or those in a window from its start to its stop (as Django's
        Paginator reads a page; no steps, no ends counted from the last)."""
        if isinstance(index, int):
            found = self[index : index + 1] if index >= 0 else []
            if not found:
                raise IndexError(index)
            return found[0]
        if (index.start or 0) < 0 or (index.stop or 0) < 0 or index.step not in (None, 1):
            raise ValueError("a window of search's listings runs forwards from its start")
        offset = index.start or 0
        limit = None if index.stop is None else max(index.stop - offset, 0)  # NULL: all
        return self.rows_counted(offset, limit)[0]

    def __iter__(self) -> Iterator[Listing]:
        return iter(self[0:])

    def __len__(self) -> int:
        return self.rows_counted(0, 0)[1]


def listing_search(
    *,
    query: str = "",
    kind: str = "",
    category: str = "",
    format: str = "",
    profession: str = "",
    viewer: Member | None = None,
    partners_only: bool = False,
) -> ListingSearch:
    """Open, visible listings matching the filters (an empty filter is none), best matches
    first when searching; for a `viewer`, none of members either side blocked; with
    `partners_only`, only those their owners share with partner networks."""
    return ListingSearch(
        query=query,
        params={
            "open": Listing.Status.OPEN,
            "kind": kind,
            "category": category,
            "format": format,
            "any_format": Listing.Format.ANY,
            "profession": profession,
            "visibility": Listing.Visibility.PARTNERS if partners_only else "",
            "viewer": viewer.pk if viewer is not None else None,
        },
    )


@dataclass(frozen=True)
class SkillMatch:
    """A member whose skills an open listing mentions: `score` is PostgreSQL's rank of the
    listing for the member's skills; `shared_skills` are the member's skills it mentions."""

    member_id: int
    listing_id: int
    score: float
    shared_skills: list[str]


# One statement. A member's skills become one websearch query, each skill a quoted phrase
# joined by OR (`"qi methods" OR "coaching"`), matched against the listing's search vector
# as a search for those words on the listings page would be. Pairs rank by how many of the
# member's skills the listing mentions, then by ts_rank (which, for an OR query, favours a
# member whose skills are all mentioned over one with more skills besides).
_SKILL_MATCHES = """
WITH pairs AS (
    SELECT m.id AS member_id, l.id AS listing_id, l.created_at,
           ts_rank(l.search_vector, q.query) AS score,
           ARRAY(SELECT skill FROM unnest(m.skills) AS skill
                 WHERE l.search_vector @@ phraseto_tsquery('english', skill)) AS shared_skills
    FROM {members} AS m
    CROSS JOIN LATERAL (
        SELECT websearch_to_tsquery('english', array_to_string(ARRAY(
            SELECT '"' || replace(skill, '"', ' ') || '"' FROM unnest(m.skills) AS skill
        ), ' OR ')) AS query
    ) AS q
    JOIN {listings} AS l ON l.search_vector @@ q.query
    WHERE m.skills <> '{{}}' AND l.owner_id <> m.id
      AND l.status = 'open' AND l.hidden_reason = ''
      AND m.id IN ({member_ids}) AND l.id IN ({listing_ids})
      AND NOT EXISTS (SELECT 1 FROM {blocks} AS b
                      WHERE (b.blocker_id = m.id AND b.blocked_id = l.owner_id)
                         OR (b.blocker_id = l.owner_id AND b.blocked_id = m.id))
), ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY member_id
        ORDER BY cardinality(shared_skills) DESC, score DESC, created_at DESC, listing_id DESC
    ) AS nth
    FROM pairs
)
SELECT member_id, listing_id, score, shared_skills FROM ranked
WHERE nth <= %s
ORDER BY cardinality(shared_skills) DESC, score DESC, created_at DESC, listing_id DESC,
         member_id
LIMIT %s
"""


def matchable_members() -> QuerySet[Member]:
    """Members a listing can be matched to: active ones (not staff, deactivated or closed)."""
    return Member.objects.filter(state=MemberState.ACTIVE, is_active=True, is_staff=False)


def members_open_to_matching() -> QuerySet[Member]:
    """Members another's request may be matched to: active ones who have not turned off
    being told of requests matching their skills."""
    return matchable_members().exclude(
        pk__in=members_not_told(kind=Kind.REQUEST_MATCH).values("member")
    )


def skill_matches(
    *,
    members: QuerySet[Member],
    listings: QuerySet[Listing] | None = None,
    per_member: int | None = None,
    limit: int | None = None,
) -> list[SkillMatch]:
    """The pairs of a member in `members` and an open, visible listing in `listings` (all
    by default) by someone else that mentions the member's skills: best first (the most
    skills shared, then the highest rank), at most
    `per_member` listings for each member and `limit` pairs in all.

    The one skills query: suggestions (one member, many listings), the weekly digest (every
    member, the week's listings) and a request's matches (one listing, many members) all
    ask it, so they can never disagree about who matches what. It is the one place that
    leaves out pairs who must never meet (members who blocked each other, core.safety):
    a condition in `_SKILL_MATCHES`'s WHERE holds for every caller at once.
    """
    member_sql, member_params = _subquery(members)
    listing_sql, listing_params = _subquery(
        listings if listings is not None else Listing.objects.all()
    )
    sql = _SKILL_MATCHES.format(
        members=connection.ops.quote_name(Member._meta.db_table),
        listings=connection.ops.quote_name(Listing._meta.db_table),
        blocks=connection.ops.quote_name(Block._meta.db_table),
        member_ids=member_sql,
        listing_ids=listing_sql,
    )
    params = [*member_params, *listing_params, per_member or 2**31 - 1, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [SkillMatch(*row) for row in cursor.fetchall()]


def _subquery(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    return sql, tuple(params)


# Suggestions rank every listing that mentions a member's skills (half a second for a
# member whose skills 4,000 listings mention), so each member's best matches are kept in
# the cache (keys carry the network's schema) for SUGGESTIONS_SECONDS, under a key that
# names their skills: changing skills asks again at once. What is kept are listing ids;
# the listings are read afresh with search's own conditions, so one closed, hidden or by
# someone blocked since is never shown. A listing posted since waits until the entry
# expires. With Redis down the suggestions are ranked on every page, as before the cache.
SUGGESTIONS_SECONDS = 600
SUGGESTIONS_KEPT = 10
# The listings of a member's kept ranking that search would show them now (open, not
# hidden, by no one either of them blocked), with what a suggestion's card shows (the
# listings page's `listing_card`, the home's members/home/suggestions.html) and nothing
# more: its kind, title, category, format and length, and its owner's name. Written once:
# the ORM spent 1.1-1.3 ms of CPU building and compiling this read on every home and
# search page, to run it in 0.1.
SUGGESTIONS_SHOWN = """
SELECT listing.id, listing.owner_id, listing.kind, listing.title, listing.category,
       listing.format, listing.duration_minutes, owner.full_name
  FROM listings_listing listing
  JOIN members_member owner ON owner.id = listing.owner_id
 WHERE listing.id = ANY(%(ranked)s)
   AND listing.status = %(open)s AND listing.hidden_reason = ''
   AND NOT EXISTS (SELECT FROM members_block block
                    WHERE (block.blocker_id = %(member)s AND block.blocked_id = listing.owner_id)
                       OR (block.blocker_id = listing.owner_id AND block.blocked_id = %(member)s))
"""
# The listing's columns it reads. from_db takes values in the model's field order, so the
# SQL reads them in that order.
SUGGESTION_COLUMNS = ["id", "owner_id", "kind", "title", "category", "format", "duration_minutes"]


def listing_suggestions(*, member: Member, limit: int = 5) -> list[Listing]:
    """At most `limit` (no more than SUGGESTIONS_KEPT) open listings by others that
    mention the member's skills, best matches first: one query while the member's ranking
    is kept, two when it is ranked again."""
    if not member.skills:
        return []
    skills = hashlib.blake2b("\0".join(member.skills).encode(), digest_size=8).hexdigest()

    def rank() -> list[int]:
        matches = skill_matches(members=Member.objects.filter(pk=member.pk), limit=SUGGESTIONS_KEPT)
        return [match.listing_id for match in matches]

    ranked = cache_kept(f"listings:suggestions:{member.pk}:{skills}", SUGGESTIONS_SECONDS, rank)
    if not ranked:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            SUGGESTIONS_SHOWN,
            {"ranked": ranked, "open": Listing.Status.OPEN, "member": member.pk},
        )
        rows = cursor.fetchall()
    found: dict[int, Listing] = {}
    for *fields, owner_name in rows:
        listing = instance_from_row(Listing, fields, SUGGESTION_COLUMNS)
        listing.owner = member_named(listing.owner_id, owner_name)
        found[listing.pk] = listing
    return [found[pk] for pk in ranked if pk in found][:limit]


@dataclass(frozen=True)
class MatchedMember:
    """A member matched to a request, as its poster sees them: `shared_skills` is empty
    when the member shows others only their name, profession and organisation."""

    member: Member
    score: float
    shared_skills: list[str]


# How many matched members a request's page offers to invite.
MATCHES_SHOWN = 10


def listing_matched_members(
    *, listing: Listing, viewer: Member, limit: int = MATCHES_SHOWN
) -> list[MatchedMember]:
    """The members best matched to `listing` who let themselves be matched (the in-app
    choice for requests matching their skills), best first, as `viewer` may see them. Two
    queries whatever the number."""
    matches = skill_matches(
        members=members_open_to_matching(),
        listings=Listing.objects.filter(pk=listing.pk),
        limit=limit,
    )
    people = Member.objects.in_bulk([m.member_id for m in matches])
    shown = []
    for match in matches:
        member = people[match.member_id]
        full = profile_shown_in_full(viewer=viewer, member=member)
        shown.append(
            MatchedMember(
                member=member,
                score=match.score,
                shared_skills=match.shared_skills if full else [],
            )
        )
    return shown


def listing_invitations(*, listing: Listing) -> QuerySet[ResponseInvitation]:
    """Whom the poster has invited to respond to `listing`, first invited first."""
    return ResponseInvitation.objects.filter(listing=listing).select_related("member")


def member_listings(*, member: Member) -> QuerySet[Listing]:
    return Listing.objects.filter(owner=member)


@dataclass(frozen=True)
class PartnerListing:
    network: Network
    listing: Listing
    owner_name: str  # "name (network)": all a partner network learns of the owner


def partner_listing_search(
    *,
    network: Network,
    query: str = "",
    kind: str = "",
    category: str = "",
    format: str = "",
    limit: int = 10,
) -> list[PartnerListing]:
    """Open listings that partner networks share with partners, matching the filters: up
    to `limit` from each partner, read inside each partner's schema. `network`: the one
    being served (its place in the federation is read from its cache)."""
    found: list[PartnerListing] = []
    partner_ids = partner_network_ids(network, kept=True)
    if not partner_ids:  # most networks: no query, nor one to build
        return found
    partners = Network.objects.filter(pk__in=partner_ids).order_by("name")
    for partner in partners:
        with tenant_context(partner):
            shared = listing_search(
                query=query, kind=kind, category=category, format=format, partners_only=True
            )[:limit]
            found.extend(
                PartnerListing(partner, listing, f"{listing.owner.full_name} ({partner.name})")
                for listing in shared
            )
    return found

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.listings.selectors import listing_suggestions
from hexitime.auth import acting_member
from ledger.selectors import member_balance, member_statement


def network_home(request: HttpRequest) -> HttpResponse:
    """A network's front page: its own welcome for visitors, and for a signed-in member
    their home (credit, suggested listings, one call to action).

    The home is a column of sections, each a template in members/home/ fed by one
    selector here. Next meetings and exchanges waiting for the member join when
    exchanges land (issue 5): a selector each, a key here, an include in the page."""
    context: dict[str, object] = {}
    if request.user.is_authenticated:
        member = acting_member(request)
        context = {
            "balance": member_balance(member=member),
            "recent": member_statement(member=member, limit=3),
            "suggestions": list(listing_suggestions(member=member, limit=3)),
        }
    return render(request, "members/network_home.html", context)

"""The pages that gather many apps for one member, so that no app below needs to know the
others: a network's home page, and a member's profile with the thanks they earned."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.announcements.selectors import announcements_shown
from core.campaigns.selectors import campaigns_active
from core.exchanges.selectors import exchanges_at_hand, thanks_for
from core.groupsessions.selectors import member_sessions_next
from core.listings.selectors import listing_suggestions
from core.members.auth import acting_member
from core.members.places import plan_usage
from core.members.selectors import approval_queue, member_has_blocked, profile_shown_in_full
from core.members.services import access_member
from core.projects.selectors import projects_awaiting_funding
from core.stories.selectors import stories_published
from kernel.errors import NotFound
from ledger.selectors import member_balance_and_statement
from tenants.selectors import network_current


def network_home(request: HttpRequest) -> HttpResponse:
    """A network's front page: its own welcome for visitors, and for a signed-in member
    their home (credit, suggested listings, one call to action).

    The home is a column of sections, each a template in members/home/ (core.members'
    templates) fed by one app's selector here."""
    context: dict[str, object] = {}
    if request.user.is_authenticated:
        member = acting_member(request)
        balance, recent = member_balance_and_statement(member=member, limit=3)
        at_hand = exchanges_at_hand(member=member, meetings=3)
        context = {
            "announcements": announcements_shown(member=member),
            "balance": balance,
            "recent": recent,
            "suggestions": list(listing_suggestions(member=member, limit=3)),
            "waiting": at_hand.waiting,
            "meetings": at_hand.meetings,
            "sessions": member_sessions_next(member=member, limit=3),
            "campaigns": campaigns_active(member=member),
        }
        if member.has_perm("members.approve_member"):
            context["plan_usage"] = plan_usage(network=network_current())
            context["join_requests"] = approval_queue().count()
        if member.has_perm("projects.fund_project"):
            context["proposals"] = projects_awaiting_funding().count()
    else:
        context["stories"] = stories_published(place="home")
    return render(request, "members/network_home.html", context)


@login_required
def member_profile(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's profile (core.members), with the thanks their exchanges earned when the
    viewer may see it in full (core.exchanges)."""
    viewer = acting_member(request)
    try:
        member = access_member(member_id, member=viewer)
    except NotFound:
        raise Http404("No such member") from None
    full = profile_shown_in_full(viewer=viewer, member=member)
    thanks = thanks_for(member=member) if full else []
    blocked = member.pk != viewer.pk and member_has_blocked(member=viewer, other=member)
    return render(
        request,
        "members/profile.html",
        {
            "member": member,
            "full": full,
            "thanks": thanks,
            "blocked": blocked,
        },
    )

"""Group-session pages, the invite download, and the calendar feed and its settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from core.members.models import Member
from kernel import ics
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.forms import refusal_show
from ledger.services import member_account
from tenants.selectors import network_current

from . import actions
from .models import BookingState, GroupSession, SessionState
from .selectors import (
    ATTENDED,
    access_session,
    booking_of,
    calendar_events,
    calendar_feed_member,
    calendar_feed_of,
    member_sessions,
    session_bookings,
    sessions_upcoming,
    waiting_position,
)
from .services import (
    calendar_feed_renew,
    calendar_feed_revoke,
    estimated_share,
    session_create,
    session_event,
)


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    return render(
        request,
        "groupsessions/list.html",
        {
            "upcoming": list(sessions_upcoming()[:50]),
            "mine": list(member_sessions(member=member).exclude(state=SessionState.CANCELLED)),
        },
    )


@login_required
def session_new(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    form = actions.SessionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                session = session_create(actor=member, **form.cleaned_data)
            except ApplicationError as refused:
                refusal_show(form, refused)
            else:
                messages.success(request, _("Your session is posted. Members can book it now."))
                return redirect("session-detail", session_id=session.pk)
        status = 400
    return render(request, "groupsessions/new.html", {"form": form}, status=status)


def _session(request: HttpRequest, session_id: int) -> tuple[Any, Any]:
    member = acting_member(request)
    try:
        return member, access_session(session_id, member=member)
    except NotFound:
        raise Http404("No such session") from None


@login_required
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    member, session = _session(request, session_id)
    return _detail(request, member, session)


def _detail(
    request: HttpRequest,
    member: Member,
    session: GroupSession,
    failed: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    booking = booking_of(session, member)
    organiser = member.has_perm("exchanges.settle_dispute")
    allowed = actions.allowed_actions(session, member, booking, organiser=organiser)
    action_forms = {name: actions.action_form(name, session) for name in allowed}
    if "edit" in action_forms:
        fields = actions.SessionForm.base_fields
        action_forms["edit"] = actions.SessionForm(
            initial={field: getattr(session, field) for field in fields}
        )
    if failed and failed[0] in action_forms:
        action_forms[failed[0]] = failed[1]
    for name, form in action_forms.items():
        form.auto_id = f"id_{name}_%s"
    giving = session.giver_id == member.pk
    bookings = session_bookings(session) if giving or organiser else []
    present = [
        b
        for b in bookings
        if b.state in (BookingState.ATTENDED, BookingState.CONFIRMED, BookingState.DISPUTED)
    ]
    context = {
        "session": session,
        "booking": booking,
        "forms": action_forms,
        "giving": giving,
        "bookings": bookings,
        "failed": failed[1] if failed else None,
        "disputed": [b for b in bookings if b.state == BookingState.DISPUTED] if organiser else [],
        "position": waiting_position(booking) if booking and booking.state == "waiting" else 0,
        "share": estimated_share(session.minutes, len(present) or session.capacity),
        "balance": member_account(member).balance,
        "invite": (booking is not None and booking.state == BookingState.BOOKED) or giving,
        "took_part": session.state == SessionState.SETTLED
        and (giving or (booking is not None and booking.state in ATTENDED)),
    }
    return render(request, "groupsessions/detail.html", context, status=status)


@login_required
@require_POST
def session_action(request: HttpRequest, session_id: int, action: str) -> HttpResponse:
    member, session = _session(request, session_id)
    if action not in actions.ACTIONS:
        raise Http404("No such action")
    try:
        form, done = actions.session_act(action, session=session, actor=member, data=request.POST)
    except NotFound:
        raise Http404("No such session") from None
    except ApplicationError as refused:
        form = actions.action_form(action, session, request.POST)
        form.is_valid()
        refusal_show(form, refused)
        status = 403 if isinstance(refused, PermissionDenied) else 409
        return _detail(
            request, member, access_session(session.pk, member=member), (action, form), status
        )
    if form.errors:
        return _detail(request, member, session, (action, form), 400)
    messages.success(request, done)
    return redirect("session-detail", session_id=session.pk)


@login_required
def session_invite(request: HttpRequest, session_id: int) -> HttpResponse:
    """The session as an .ics file (METHOD:REQUEST) for its giver and those booked."""
    member, session = _session(request, session_id)
    booking = booking_of(session, member)
    booked = booking is not None and booking.state == BookingState.BOOKED
    if session.state != SessionState.OPEN or not (booked or session.giver_id == member.pk):
        raise Http404("No invite")
    event = session_event(
        session, member=member, url=request.build_absolute_uri(f"/sessions/{session.pk}/")
    )
    response = HttpResponse(
        ics.invite(event, network_name=network_current().name), content_type=ics.CONTENT_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="session-{session.pk}.ics"'
    return response


@login_required
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """Make, replace or turn off the private calendar feed; the address shows once."""
    member = acting_member(request)
    secret = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            calendar_feed_revoke(actor=member)
            messages.success(request, _("Your calendar feed is turned off."))
            return redirect("calendar-settings")
        secret = calendar_feed_renew(actor=member)
    feed_url = request.build_absolute_uri(f"/calendar/{secret}.ics") if secret else ""
    return render(
        request,
        "groupsessions/calendar.html",
        {
            "feed": calendar_feed_of(member),
            "feed_url": feed_url,
        },
    )


@never_cache
def calendar_feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The member's feed, read without signing in: only the secret opens it, and only on
    the member's own network's address (another network's schema has no such secret)."""
    member = calendar_feed_member(secret)
    if member is None:
        raise Http404("No such calendar")
    body = ics.feed(
        calendar_events(member=member),
        name=f"{network_current().name}: {member.full_name}",
        network_name=network_current().name,
    )
    response = HttpResponse(body, content_type=ics.CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="kernel.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response

"""Exchange pages. A member of a partner network uses the same pages under
/exchanges/partner/<network>/..., which read and act inside the hosting network's schema
and show nothing of it beyond the exchange itself."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from core.listings.models import Listing
from core.listings.services import access_listing
from core.members.auth import acting_member
from core.members.models import Member
from kernel import ics
from kernel.csvfile import csv_stream
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.forms import refusal_show
from ledger.services import member_account
from tenants.models import Network
from tenants.selectors import network_current

from . import actions
from .models import Exchange, State
from .selectors import (
    EXPORT_COLUMNS,
    exchange_thread,
    exchanges_export_rows,
    exchanges_overview,
    member_exchanges,
    partner_exchanges,
    safeguarding_contact,
    waiting_on,
)
from .services import (
    Side,
    access_exchange,
    access_partner_exchange,
    access_partner_network,
    exchange_respond,
    exchange_settings,
    exchange_settings_update,
    exchanges_export_record,
    safeguarding_contact_set,
    side_of,
    sides_blocked,
)
from .services.calendar import invite_for


@login_required
def exchange_list(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    exchanges = list(member_exchanges(member=member).prefetch_related("proposals"))
    rows = [(e, waiting_on(e, side) if (side := side_of(e, member)) else "") for e in exchanges]
    return render(
        request,
        "exchanges/list.html",
        {
            "waiting": [(e, a) for e, a in rows if a],
            "active": [(e, a) for e, a in rows if not a and not e.is_final],
            "finished": [e for e, _ in rows if e.is_final],
            "partner": partner_exchanges(member=member, network=network_current()),
        },
    )


@login_required
def exchange_detail(request: HttpRequest, exchange_id: int) -> HttpResponse:
    member = acting_member(request)
    try:
        exchange = access_exchange(exchange_id, member=member)
    except NotFound:
        raise Http404("No such exchange") from None
    return _detail(request, exchange, member, None, f"/exchanges/{exchange.pk}/")


@login_required
def exchange_invite(request: HttpRequest, exchange_id: int) -> HttpResponse:
    """The agreed meeting as an .ics file to open in a calendar (METHOD:REQUEST)."""
    member = acting_member(request)
    try:
        exchange = access_exchange(exchange_id, member=member)
    except NotFound:
        raise Http404("No such exchange") from None
    if exchange.meeting_at is None or exchange.state != State.SCHEDULED:
        raise Http404("No meeting is arranged")
    page = f"/exchanges/{exchange.pk}/"
    text = invite_for(exchange)(member, page)
    response = HttpResponse(text, content_type=ics.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="exchange-{exchange.pk}.ics"'
    return response


@login_required
@require_POST
def exchange_action(request: HttpRequest, exchange_id: int, action: str) -> HttpResponse:
    member = acting_member(request)
    try:
        exchange = access_exchange(exchange_id, member=member)
    except NotFound:
        raise Http404("No such exchange") from None
    return _act(request, exchange, member, None, action, f"/exchanges/{exchange.pk}/")


def _partner_exchange(
    request: HttpRequest, slug: str, exchange_id: int
) -> tuple[Network, Exchange]:
    try:
        return access_partner_exchange(
            slug, exchange_id, member=acting_member(request), network=network_current()
        )
    except NotFound:
        raise Http404("No such exchange") from None


def _partner_host(slug: str) -> Network:
    try:
        return access_partner_network(slug, network=network_current())
    except NotFound:
        raise Http404("No such network") from None


@login_required
def partner_exchange_detail(request: HttpRequest, slug: str, exchange_id: int) -> HttpResponse:
    member = acting_member(request)
    host, exchange = _partner_exchange(request, slug, exchange_id)
    return _detail(
        request, exchange, member, host, f"/exchanges/partner/{host.slug}/{exchange_id}/"
    )


@login_required
@require_POST
def partner_exchange_action(
    request: HttpRequest, slug: str, exchange_id: int, action: str
) -> HttpResponse:
    member = acting_member(request)
    host, exchange = _partner_exchange(request, slug, exchange_id)
    return _act(
        request, exchange, member, host, action, f"/exchanges/partner/{host.slug}/{exchange_id}/"
    )


def _act(
    request: HttpRequest,
    exchange: Exchange,
    member: Member,
    host: Network | None,
    action: str,
    page: str,
) -> HttpResponse:
    if action not in actions.ACTIONS:
        raise Http404("No such action")
    network = None if host is None else network_current()
    try:
        with tenant_context(host or network_current()):
            form, done = actions.exchange_act(
                action, exchange=exchange, actor=member, data=request.POST, actor_network=network
            )
    except NotFound:
        raise Http404("No such exchange") from None
    except ApplicationError as refused:
        form = actions.ACTIONS[action].form(request.POST)
        form.is_valid()
        refusal_show(form, refused)
        status = 403 if isinstance(refused, PermissionDenied) else 409
        return _detail(request, exchange, member, host, page, (action, form), status)
    if form.errors:
        return _detail(request, exchange, member, host, page, (action, form), 400)
    messages.success(request, done)
    return redirect(page)


def _detail(
    request: HttpRequest,
    exchange: Exchange,
    member: Member,
    host: Network | None,
    page: str,
    failed: tuple[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render an exchange. Everything is read inside the hosting schema before rendering."""
    here = network_current()
    with tenant_context(host or here):
        if failed:  # a refused move may have changed the object in memory: read it again
            exchange = Exchange.objects.select_related("listing", "giver", "receiver").get(
                pk=exchange.pk
            )
        thread = exchange_thread(exchange)
        side = side_of(exchange, member, here if host else None)
        organiser = host is None and member.has_perm("exchanges.settle_dispute")
        blocked = sides_blocked(exchange)
        allowed = actions.allowed_actions(
            exchange, side, thread, organiser=organiser, blocked=blocked
        )
        rules = exchange_settings()
        context: dict[str, Any] = {
            "exchange": exchange,
            "side": side,
            "page": page,
            "host": host,
            "other_name": (exchange.receiver_name if side == Side.GIVER else exchange.giver_name),
            "thread": thread.messages,
            "open_proposal": actions.open_proposal(thread.proposals),
            "thanks": thread.thanks,
            "waiting_on": waiting_on(exchange, side, thread.proposals) if side else "",
            "auto_confirm_days": rules.auto_confirm_days,
            # The hosting network's contact: a partner network's member sees the host's.
            "safeguarding": rules,
            "blocked": blocked and side is not None,
            "can_report": host is None and side is not None,
        }
    action_forms = {name: actions.ACTIONS[name].form() for name in allowed}
    if "settle" in action_forms:  # adjusting starts from the time recorded
        action_forms["settle"] = actions.SettleForm(initial={"minutes": exchange.minutes})
    if failed:
        # A refused move the exchange does not offer now (confirming hours not yet
        # recorded) is told in the summary; only an offered move's form is re-shown.
        if failed[0] in action_forms:
            action_forms[failed[0]] = failed[1]
        context["failed"] = failed[1]
    if "record" in action_forms and exchange.meeting_at is not None:
        action_forms["record"].fields.pop("met_on")  # the agreed meeting's day is kept
    for name, form in action_forms.items():
        # One page holds several of these forms (decline and cancel both ask for a reason):
        # ids carry the action's name so each label belongs to its own field.
        form.auto_id = f"id_{name}_%s"
    context["forms"] = action_forms
    if side == Side.RECEIVER and exchange.state == State.RECORDED:
        balance = member_account(member).balance  # the member's own network's ledger
        context["balance"] = balance
        context["short_of_credit"] = (exchange.minutes or 0) > balance
    return render(request, "exchanges/detail.html", context, status=status)


@login_required
@require_POST
def exchange_respond_view(request: HttpRequest, listing_id: int) -> HttpResponse:
    member = acting_member(request)
    try:
        listing = access_listing(listing_id, member=member)
        exchange = exchange_respond(
            actor=member, listing=listing, message=request.POST.get("message", "")
        )
    except NotFound:
        raise Http404("No such listing") from None
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect("listing-detail", listing_id=listing_id)
    messages.success(request, _("Your response is sent. We will tell you when they reply."))
    return redirect("exchange-detail", exchange_id=exchange.pk)


@login_required
def partner_listing(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    """A partner network's listing shared with partners: its text and its owner's name and
    network, nothing more."""
    host = _partner_host(slug)
    with tenant_context(host):
        listing = (
            Listing.objects.select_related("owner")
            .filter(
                pk=listing_id,
                visibility=Listing.Visibility.PARTNERS,
                status=Listing.Status.OPEN,
                hidden_reason="",
            )
            .first()
        )
        if listing is None:
            raise Http404("No such listing")
        owner_name = listing.owner.full_name
    return render(
        request,
        "exchanges/partner_listing.html",
        {"listing": listing, "host": host, "owner_name": owner_name},
    )


@login_required
@require_POST
def partner_respond(request: HttpRequest, slug: str, listing_id: int) -> HttpResponse:
    member = acting_member(request)
    here = network_current()
    host = _partner_host(slug)
    try:
        with tenant_context(host):
            listing = get_object_or_404(Listing, pk=listing_id)
            exchange = exchange_respond(
                actor=member,
                listing=listing,
                actor_network=here,
                message=request.POST.get("message", ""),
            )
    except NotFound:
        raise Http404("No such listing") from None
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect("partner-listing", slug=slug, listing_id=listing_id)
    messages.success(request, _("Your response is sent. We will tell you when they reply."))
    return redirect("partner-exchange", slug=slug, exchange_id=exchange.pk)


@contextmanager
def _forbidden_as_403() -> Iterator[None]:
    """An organiser's page refused by its selector or service: forbidden (403), since
    anyone may know the page exists (docs/architecture.md, "403 or 404")."""
    try:
        yield
    except PermissionDenied:
        raise DjangoPermissionDenied from None


@login_required
def organiser_overview(request: HttpRequest) -> HttpResponse:
    member = acting_member(request)
    with _forbidden_as_403():
        overview = exchanges_overview(actor=member)
    error = ""
    if request.method == "POST":
        try:
            days = int(request.POST.get("auto_confirm_days", ""))
        except ValueError:
            days = 0
        try:
            exchange_settings_update(actor=member, auto_confirm_days=days)
        except ApplicationError as refused:
            error = refused.message
        else:
            messages.success(request, f"Hours now confirm themselves after {days} days.")
            return redirect("exchanges-organiser")
    return render(
        request,
        "exchanges/organiser.html",
        {
            "overview": overview,
            "settings": exchange_settings(),
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def organiser_export(request: HttpRequest) -> StreamingHttpResponse:
    member = acting_member(request)
    with _forbidden_as_403():
        exchanges_export_record(actor=member)
    network = network_current()

    def rows() -> Iterator[Iterable[object]]:
        # Streamed after the view returns, when the request's schema is already reset.
        with tenant_context(network):
            yield EXPORT_COLUMNS
            yield from exchanges_export_rows(actor=member)

    return csv_stream(rows(), filename="exchanges.csv")


class SafeguardingForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=150, required=False)
    role = forms.CharField(
        label=gettext_lazy("Role, e.g. Named nurse for safeguarding adults"),
        max_length=150,
        required=False,
    )
    email = forms.EmailField(label=gettext_lazy("Email address"), required=False)
    phone = forms.CharField(label=gettext_lazy("Phone number"), max_length=40, required=False)
    note = forms.CharField(
        label=gettext_lazy("Note for members (optional)"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("For example when they can be reached, or who covers for them."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


@login_required
def organiser_safeguarding(request: HttpRequest) -> HttpResponse:
    """Organisers name the safeguarding contact shown on every exchange page."""
    member = acting_member(request)
    with _forbidden_as_403():
        rules = safeguarding_contact(actor=member)
    initial = {
        field: getattr(rules, f"safeguarding_{field}")
        for field in ("name", "role", "email", "phone", "note")
    }
    form = SafeguardingForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                safeguarding_contact_set(actor=member, **form.cleaned_data)
            except ApplicationError as refused:
                refusal_show(form, refused)
            else:
                messages.success(
                    request, _("The safeguarding contact is saved: every exchange page shows it.")
                )
                return redirect("exchanges-safeguarding")
        status = 400
    return render(
        request,
        "exchanges/safeguarding_settings.html",
        {"form": form, "contact": rules},
        status=status,
    )

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied as Forbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.members.auth import acting_member
from core.members.models import Member, Profession
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.forms import refusal_show
from kernel.pagination import CountingPaginator
from ledger.services import minutes_as_text
from tenants.selectors import network_current

from .models import INVITATIONS_PER_REQUEST, Listing
from .selectors import (
    listing_invitations,
    listing_matched_members,
    listing_search,
    listing_suggestions,
    member_listings,
    partner_listing_search,
)
from .services import (
    access_listing,
    listing_create,
    listing_hide,
    listing_invite,
    listing_settings_get,
    listing_settings_set,
    listing_status_set,
    listing_update,
)


class ListingForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Are you offering help or asking for it?"),
        choices=Listing.Kind.choices,
        widget=forms.RadioSelect,
    )
    title = forms.CharField(label=gettext_lazy("Title"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("Describe what you offer or need"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Listing.Category.choices)
    format = forms.ChoiceField(
        label=gettext_lazy("How can you meet?"), choices=Listing.Format.choices
    )
    location = forms.CharField(
        label=gettext_lazy("Location (if in person)"), max_length=120, required=False
    )
    duration_minutes = forms.TypedChoiceField(
        label=gettext_lazy("Expected time"),
        coerce=int,
        initial=60,
        choices=[(m, minutes_as_text(m)) for m in range(15, 481, 15)],
    )
    visibility = forms.ChoiceField(
        label=gettext_lazy("Who can see it?"), choices=Listing.Visibility.choices
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why hide it? (the poster sees this)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# What a search of the listings page asks for: words and filters.
FILTERS = ("q", "kind", "category", "format", "profession")


def listing_browse(request: HttpRequest) -> HttpResponse:
    """Search the network's listings: for members, or for anyone when the network has
    chosen a public page (then without the names of those who posted)."""
    visitor = not request.user.is_authenticated
    if visitor and not listing_settings_get().public_page:
        return redirect_to_login(request.get_full_path())
    params = request.GET
    listings = listing_search(
        query=params.get("q", ""),
        kind=params.get("kind", ""),
        category=params.get("category", ""),
        format=params.get("format", ""),
        profession=params.get("profession", ""),
        viewer=None if visitor else acting_member(request),
    )
    page = CountingPaginator(listings, 20).get_page(params.get("page"))
    # Suggestions from the member's skills help them browse: above a search's results,
    # they came between the member and what they asked for (docs/decisions.md).
    browsing = page.number == 1 and not any(params.get(name, "").strip() for name in FILTERS)
    suggestions = (
        listing_suggestions(member=acting_member(request))
        if browsing and request.user.is_authenticated
        else []
    )
    partner = []
    if request.user.is_authenticated and page.number == 1:
        partner = partner_listing_search(
            network=network_current(),
            query=params.get("q", ""),
            kind=params.get("kind", ""),
            category=params.get("category", ""),
            format=params.get("format", ""),
        )
    query_string = params.copy()
    query_string.pop("page", None)
    return render(
        request,
        "listings/browse.html",
        {
            "page": page,
            "params": params,
            "query_string": query_string.urlencode(),
            "suggestions": suggestions,
            "partner_listings": partner,
            "kinds": Listing.Kind.choices,
            "categories": Listing.Category.choices,
            "formats": Listing.Format.choices,
            "professions": Profession.choices,
            "hide_names": visitor,
        },
    )


def listing_detail(request: HttpRequest, listing_id: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"/accounts/login/?next={request.path}")
    member = acting_member(request)
    listing = _listing(member, listing_id)
    moderate = listing.owner_id != member.pk and member.has_perm("listings.moderate_listing")
    matches, invitations = None, []
    if listing.owner_id == member.pk and listing.kind == Listing.Kind.REQUEST:
        matches = listing_matched_members(listing=listing, viewer=member)
        invitations = list(listing_invitations(listing=listing))
    return render(
        request,
        "listings/detail.html",
        {
            "listing": listing,
            "hide_form": HideForm() if moderate else None,
            "matches": matches,
            "invitations": invitations,
            "invited_ids": {invitation.member_id for invitation in invitations},
            "invitations_left": INVITATIONS_PER_REQUEST - len(invitations),
        },
    )


@login_required
@require_POST
def listing_invite_view(request: HttpRequest, listing_id: int) -> HttpResponse:
    """The poster invites one of the members their request matches to respond."""
    member = acting_member(request)
    listing = _listing(member, listing_id, own=True)
    try:
        member_id = int(request.POST.get("member", ""))
    except ValueError:
        messages.error(request, _("Choose someone to invite."))
        return redirect("listing-detail", listing_id=listing_id)
    try:
        invitation = listing_invite(actor=member, listing=listing, member_id=member_id)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("%(name)s is invited to respond.") % {"name": invitation.member.full_name},
        )
    return redirect("listing-detail", listing_id=listing_id)


def _listing(member: Member, listing_id: int, *, own: bool = False) -> Listing:
    """A listing the member may see (`access_listing`), or with `own` only one of their
    own; anything else is a page not found, as for the API."""
    try:
        listing = access_listing(listing_id, member=member)
    except NotFound:
        raise Http404("No such listing") from None
    if own and listing.owner_id != member.pk:
        raise Http404("No such listing")
    return listing


FORM_FIELDS = list(ListingForm.base_fields)


@login_required
def listing_edit(request: HttpRequest, listing_id: int) -> HttpResponse:
    listing = _listing(acting_member(request), listing_id, own=True)
    initial = {name: getattr(listing, name) for name in FORM_FIELDS}
    form = ListingForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            listing_update(actor=acting_member(request), listing=listing, **changed)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(request, _("Your listing is updated."))
            return redirect("listing-detail", listing_id=listing.pk)
    return render(request, "listings/form.html", {"form": form, "listing": listing})


@login_required
@require_POST
def listing_hide_view(request: HttpRequest, listing_id: int) -> HttpResponse:
    member = acting_member(request)
    listing = _listing(member, listing_id)
    form = HideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please say why the listing is hidden."))
        return redirect("listing-detail", listing_id=listing_id)
    try:
        listing_hide(actor=member, listing=listing, reason=form.cleaned_data["reason"])
    except ApplicationError as refused:
        messages.error(request, refused.message)
        return redirect("listing-detail", listing_id=listing_id)
    messages.success(request, _("The listing is hidden. Its poster can still see it, and why."))
    return redirect("listings")


@login_required
def listing_new(request: HttpRequest) -> HttpResponse:
    form = ListingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            listing = listing_create(actor=acting_member(request), **form.cleaned_data)
        except ApplicationError as refused:
            refusal_show(form, refused)
        else:
            messages.success(request, _("Your listing is posted."))
            return redirect("listing-detail", listing_id=listing.pk)
    return render(request, "listings/form.html", {"form": form})


@login_required
@require_POST
def listing_status(request: HttpRequest, listing_id: int) -> HttpResponse:
    member = acting_member(request)
    listing = _listing(member, listing_id)
    try:
        listing_status_set(actor=member, listing=listing, status=request.POST.get("status", ""))
    except ApplicationError as refused:
        messages.error(request, refused.message)
    return redirect("listing-detail", listing_id=listing_id)


@login_required
def my_listings(request: HttpRequest) -> HttpResponse:
    return render(
        request, "listings/mine.html", {"listings": member_listings(member=acting_member(request))}
    )


class ListingSettingsForm(forms.Form):
    public_page = forms.BooleanField(
        label=gettext_lazy("Let visitors who are not signed in see the listings (without names)"),
        required=False,
    )


@login_required
def listing_settings(request: HttpRequest) -> HttpResponse:
    """Organisers: whether the listings page is public."""
    member = acting_member(request)
    if not member.has_perm("listings.moderate_listing"):
        raise Forbidden
    form = ListingSettingsForm(
        request.POST or None, initial={"public_page": listing_settings_get().public_page}
    )
    if request.method == "POST" and form.is_valid():
        try:
            listing_settings_set(actor=member, public_page=form.cleaned_data["public_page"])
        except PermissionDenied as refused:
            raise Forbidden(refused.message) from None
        messages.success(request, _("Saved: who sees the listings."))
        return redirect("listing-settings")
    return render(request, "listings/settings.html", {"form": form})

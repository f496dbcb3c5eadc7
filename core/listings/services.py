"""Creating, editing, closing and moderating listings."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit.services import audit_record
from core.members.models import Member
from core.members.selectors import members_blocked_between
from core.members.services import member_require_joined
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import connection, durable_service, outbox_claim
from kernel.errors import ApplicationError, NotFound, PermissionDenied
from kernel.tasks import task_send_on_commit
from kernel.text import markup_refuse, plain_text

from .models import INVITATIONS_PER_REQUEST, Listing, ListingSettings, ResponseInvitation
from .selectors import matchable_members, members_open_to_matching, skill_matches

# At most this many members are told of one new request: the best matched (a request that
# mentions a common skill would otherwise notify half the network).
MATCH_NOTIFY_LIMIT = 25

EDITABLE = (
    "kind",
    "title",
    "description",
    "category",
    "format",
    "location",
    "duration_minutes",
    "available_from",
    "available_until",
    "visibility",
)


class ListingRefused(ApplicationError):
    pass


# What a listing's choice asks for when it is not one of the choices, by its field name.
_CHOOSE = {
    "kind": gettext_lazy("Choose a kind from: %(allowed)s."),
    "category": gettext_lazy("Choose a category from: %(allowed)s."),
    "format": gettext_lazy("Choose a format from: %(allowed)s."),
    "visibility": gettext_lazy("Choose a visibility from: %(allowed)s."),
}
# What a listing's text asks for when it is left empty, by its field name.
_MISSING = {
    "title": gettext_lazy("Please give your listing a title."),
    "description": gettext_lazy("Please give your listing a description."),
    "kind": gettext_lazy("Please give your listing a kind."),
    "category": gettext_lazy("Please give your listing a category."),
}


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    """Check a listing's fields, naming the first problem in words a member understands."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ListingRefused(
            _("Unknown field: %(fields)s.") % {"fields": ", ".join(sorted(unknown))}
        )
    choices = {
        "kind": Listing.Kind,
        "category": Listing.Category,
        "format": Listing.Format,
        "visibility": Listing.Visibility,
    }
    for name, choice in choices.items():
        if name in fields and fields[name] not in choice.values:
            allowed = ", ".join(str(label).lower() for label in choice.labels)
            raise ListingRefused(
                str(_CHOOSE[name]) % {"allowed": allowed},
                field=name,
            )
    for name, limit in (("title", 120), ("description", 5000), ("location", 120)):
        if name in fields:
            missing = None if name == "location" else str(_MISSING[name])
            fields[name] = plain_text(
                fields[name], name=name, limit=limit, missing=missing, refusal=ListingRefused
            )
    minutes = fields.get("duration_minutes")
    if minutes is not None and (
        not isinstance(minutes, int) or not 15 <= minutes <= 480 or minutes % 15
    ):
        raise ListingRefused(
            _("Expected duration must be between 15 minutes and 8 hours, in steps of 15 minutes."),
            field="duration_minutes",
        )
    start, end = fields.get("available_from"), fields.get("available_until")
    if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
        raise ListingRefused(
            _("The end of the date window is before its start."), field="available_until"
        )
    return fields


@durable_service
def listing_create(*, actor: Member, **fields: Any) -> Listing:
    """Post an offer or a request. Script or markup in the text is stripped, not stored.
    Members who have not finished joining (email unverified, awaiting approval) may
    browse but not post."""
    member_require_joined(actor, before=_("posting"))
    missing = [
        name for name in ("kind", "title", "description", "category") if not fields.get(name)
    ]
    if missing:
        raise ListingRefused(str(_MISSING[missing[0]]), field=missing[0])
    request = fields.get("kind") == Listing.Kind.REQUEST
    listing = Listing.objects.create(
        owner=actor,
        match_pending=request,
        match_queued_at=timezone.now() if request else None,
        **_clean(fields),
    )
    if request:
        _matches_notify_after_commit(listing)
    return listing


def _matches_notify_after_commit(listing: Listing) -> None:
    """Once the request is committed, a task tells the members it matches. The listing's
    `match_pending` is its outbox: a message lost here is queued again by the sweep."""
    listing_matches_queue(schema_name=connection.schema_name, ids=[listing.pk])


def listing_matches_queue(*, schema_name: str, ids: list[int]) -> None:
    """Queue the matching task of each request once the current transaction commits (by
    name: tasks call services, not the other way)."""
    for listing_id in ids:
        task_send_on_commit(
            "core.listings.tasks.listing_matches_notify_task",
            schema_name=schema_name,
            listing_id=listing_id,
        )


def listing_matches_sweep(*, grace: datetime.timedelta) -> int:
    """Queue again the matching of every request still pending `grace` after it was last
    queued (its message was lost, or every retry failed); returns how many. Runs in the
    current network's schema."""
    with transaction.atomic(durable=True):
        ids = outbox_claim(
            Listing.objects.filter(match_pending=True), queued_at="match_queued_at", grace=grace
        )
    listing_matches_queue(schema_name=connection.schema_name, ids=ids)
    return len(ids)


def access_listing(listing_id: int, *, member: Member) -> Listing:
    """A listing the member may see: open ones, and any of their own. Anything else, like a
    listing that does not exist or one of a member either side blocked, is simply not
    found."""
    listing = Listing.objects.select_related("owner").filter(pk=listing_id).first()
    if listing is None or (
        listing.owner_id != member.pk
        and (
            listing.status != Listing.Status.OPEN
            or listing.hidden_reason
            or members_blocked_between(listing.owner_id, member)
        )
    ):
        raise NotFound(_("No such listing."))
    return listing


def _locked(listing: Listing) -> Listing:
    """The listing's row as it is now, locked until the service's transaction ends: the
    object a caller passes in may be stale (a moderator may have hidden it since)."""
    return Listing.objects.select_for_update().get(pk=listing.pk)


def _save_changed(listing: Listing, changes: dict[str, Any]) -> list[str]:
    """Set and save only the fields whose values change, so a save never writes back a
    field someone else changed (the moderator's `hidden_reason`, the owner's status)."""
    changed = [name for name, value in changes.items() if getattr(listing, name) != value]
    for name in changed:
        setattr(listing, name, changes[name])
    if changed:
        listing.save(update_fields=[*changed, "updated_at"])
    return changed


@durable_service
def listing_update(*, actor: Member, listing: Listing, **fields: Any) -> Listing:
    """The owner edits their listing. Locks the row and saves only the fields that change,
    so an edit made from a stale copy never undoes a moderator's hiding it."""
    listing = _locked(listing)
    if listing.owner_id != actor.pk:
        raise PermissionDenied(_("Only the person who posted a listing can change it."))
    _save_changed(listing, _clean(fields))
    return listing


@durable_service
def listing_status_set(*, actor: Member, listing: Listing, status: str) -> Listing:
    """The owner opens, pauses or closes their listing (the row locked, only `status`
    saved)."""
    listing = _locked(listing)
    if listing.owner_id != actor.pk:
        raise PermissionDenied(
            _("Only the person who posted a listing can open, pause or close it.")
        )
    if status not in Listing.Status.values:
        raise ListingRefused(_("Status must be open, paused or closed."), field="status")
    reopened = _save_changed(listing, {"status": status}) and status == Listing.Status.OPEN
    if reopened and listing.kind == Listing.Kind.REQUEST:
        Listing.objects.filter(pk=listing.pk).update(
            match_pending=True, match_queued_at=timezone.now()
        )
        _matches_notify_after_commit(listing)  # members told before are not told again
    return listing


def listings_withdraw_for_member(*, member: Member) -> int:
    """Close every listing of a member who is leaving, so none is offered again (inside
    the caller's transaction). Returns how many were still open or paused."""
    return (
        Listing.objects.filter(owner=member)
        .exclude(status=Listing.Status.CLOSED)
        .update(status=Listing.Status.CLOSED, updated_at=timezone.now())
    )


@durable_service
def listing_hide(*, actor: Member, listing: Listing, reason: str) -> Listing:
    """An organiser hides a listing from everyone but its owner, saying why (audited).
    Locks the row and saves only `hidden_reason`."""
    return listing_hide_step(actor=actor, listing=listing, reason=reason)


def listing_hide_step(*, actor: Member, listing: Listing, reason: str) -> Listing:
    """`listing_hide` inside the caller's transaction (an organiser acting on a report
    hides the listing and closes the report in one)."""
    if not actor.has_perm("listings.moderate_listing"):
        raise PermissionDenied(_("Only organisers can hide listings."))
    reason = markup_refuse(reason, name="reason", refusal=ListingRefused, required=True)
    if not reason:
        raise ListingRefused(_("Please say why the listing is hidden."), field="reason")
    listing = _locked(listing)
    before = {"hidden_reason": listing.hidden_reason}
    _save_changed(listing, {"hidden_reason": reason[:500]})
    audit_record(
        actor=actor,
        verb="listing.hide",
        target=listing,
        before=before,
        after={"hidden_reason": listing.hidden_reason},
        reason=listing.hidden_reason,
    )
    return listing


def listings_weekly_digest(*, now: datetime.datetime | None = None) -> int:
    """Tell each active member about last week's new listings that mention their skills,
    once per member per ISO week (the notification key). Returns how many members had
    matching listings (repeating a run within the week notifies nobody twice). Three
    queries to find them all (`skill_matches`), then one transaction per member told."""
    now = now or timezone.now()
    year, week, _weekday = now.isocalendar()
    since = now - datetime.timedelta(days=7)
    matches = skill_matches(
        members=matchable_members().exclude(skills=[]),
        listings=Listing.objects.filter(created_at__gte=since),
        per_member=10,
    )
    by_member: dict[int, list[int]] = {}
    for match in matches:
        by_member.setdefault(match.member_id, []).append(match.listing_id)
    members = Member.objects.in_bulk(list(by_member))
    listings = Listing.objects.in_bulk([m.listing_id for m in matches])
    for member_id, listing_ids in by_member.items():
        new = [listings[pk] for pk in listing_ids]
        lines = [f"- {listing.title} (/listings/{listing.pk}/)" for listing in new]
        with transaction.atomic():
            notification_send(
                recipient=members[member_id],
                kind=Kind.WEEKLY_DIGEST,
                key=f"digest:{member_id}:{year}-W{week}",
                title=f"{len(new)} new listing{'s' if len(new) != 1 else ''} matching your skills",
                body="\n".join(lines),
                url="/listings/",
            )
    return len(by_member)


@durable_service
def listing_matches_notify(*, listing_id: int) -> int:
    """Tell the members an open request matches about it, in the app (the ones who chose it
    get the day's in one email: core.notifications): at most MATCH_NOTIFY_LIMIT, the best
    matched. Each member is told of a request once, however often this runs (the key).
    Returns how many members it matches. Clears the request's `match_pending` (the row
    locked: a delivery that finds it locked leaves it to the one holding it)."""
    listing = (
        Listing.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("owner")
        .filter(pk=listing_id, match_pending=True)
        .first()
    )
    if listing is None:
        return 0
    Listing.objects.filter(pk=listing.pk).update(match_pending=False)
    if (listing.kind, listing.status, listing.hidden_reason) != (
        Listing.Kind.REQUEST,
        Listing.Status.OPEN,
        "",
    ):
        return 0
    matches = skill_matches(
        members=members_open_to_matching(),
        listings=Listing.objects.filter(pk=listing.pk),
        limit=MATCH_NOTIFY_LIMIT,
    )
    members = Member.objects.in_bulk([m.member_id for m in matches])
    for match in matches:
        notification_send(
            recipient=members[match.member_id],
            kind=Kind.REQUEST_MATCH,
            key=f"listing:{listing.pk}:match:{match.member_id}",
            title=_("A request matching your skills: %(title)s") % {"title": listing.title},
            body=_("%(name)s asked for help. It mentions your skills: %(skills)s.")
            % {"name": listing.owner.full_name, "skills": ", ".join(match.shared_skills)},
            url=f"/listings/{listing.pk}/",
        )
    return len(matches)


class InvitationRefused(ApplicationError):
    status_code = 409


@durable_service
def listing_invite(*, actor: Member, listing: Listing, member_id: int) -> ResponseInvitation:
    """The poster of an open request invites a member it matches to respond: the member is
    told, with a link to the request. At most INVITATIONS_PER_REQUEST per request, counted
    with the request's row locked, so two invitations at once cannot pass the limit
    together. Inviting someone invited already returns that invitation and tells nobody
    again."""
    listing = _locked(listing)
    if listing.owner_id != actor.pk:
        raise PermissionDenied(_("Only the person who posted a request can invite people to it."))
    member_require_joined(actor, before=_("inviting people"))
    existing = ResponseInvitation.objects.filter(listing=listing, member_id=member_id).first()
    if existing is not None:
        return existing
    if listing.kind != Listing.Kind.REQUEST:
        raise InvitationRefused(_("Only requests take invitations to respond."))
    if listing.status != Listing.Status.OPEN or listing.hidden_reason:
        raise InvitationRefused(_("Reopen the request to invite people to respond."))
    if ResponseInvitation.objects.filter(listing=listing).count() >= INVITATIONS_PER_REQUEST:
        raise InvitationRefused(
            _("You have invited %(limit)d people to this request, the most it can have.")
            % {"limit": INVITATIONS_PER_REQUEST}
        )
    matched = skill_matches(
        members=members_open_to_matching().filter(pk=member_id),
        listings=Listing.objects.filter(pk=listing.pk),
    )
    if not matched:
        raise NotFound(_("No such member matches this request."))
    member = Member.objects.get(pk=member_id)
    try:
        with transaction.atomic():
            invitation = ResponseInvitation.objects.create(listing=listing, member=member)
    except IntegrityError:  # the same invitation made at the same moment
        return ResponseInvitation.objects.get(listing=listing, member=member)
    notification_send(
        recipient=member,
        kind=Kind.INVITED_TO_RESPOND,
        key=f"listing:{listing.pk}:invited:{member.pk}",
        title=_("%(name)s invited you to respond: %(title)s")
        % {"name": actor.full_name, "title": listing.title},
        body=_("Your skills match their request. Open it to respond, or leave it."),
        url=f"/listings/{listing.pk}/",
    )
    return invitation


def listing_settings_get() -> ListingSettings:
    """The current network's listing settings (members only, until an organiser says
    otherwise)."""
    settings, _created = ListingSettings.objects.get_or_create(pk=1)
    return settings


def listing_settings_set(*, actor: Member, public_page: bool) -> ListingSettings:
    """An organiser chooses whether visitors see the listings page (without names).
    Audited."""
    if not actor.has_perm("listings.moderate_listing"):
        raise PermissionDenied(_("Only organisers can choose who sees the listings."))
    with transaction.atomic(durable=True):
        settings = ListingSettings.objects.select_for_update().get_or_create(pk=1)[0]
        before = {"public_page": settings.public_page}
        settings.public_page = public_page
        settings.save(update_fields=["public_page"])
        audit_record(
            actor=actor,
            verb="listing_settings.change",
            target=settings,
            before=before,
            after={"public_page": public_page},
        )
    return settings

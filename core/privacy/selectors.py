"""Everything the network holds about one member, read for their download.

Each section is a list of flat rows (dicts of plain values), so the same data becomes
`data.json` and one CSV file per section. Only the member's own rows are read: every
query is filtered by the member, in the current network's schema.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django_tenants.utils import tenant_context

from core.announcements.models import Recipient
from core.audit.models import AuditEvent
from core.cpd.models import EntryNote, Record
from core.exchanges.models import Exchange, Message, Proposal, Thanks
from core.exchanges.selectors import partner_exchanges
from core.giving.selectors import member_gifts
from core.groupsessions.models import Booking, GroupSession
from core.insights.selectors.equality import equality_answers_get
from core.listings.models import Listing, ResponseInvitation
from core.listings.services import EDITABLE
from core.members.models import Member
from core.members.selectors import member_blocks
from core.notifications.models import EmailPreference, Notification, PushSubscription
from core.projects.models import Project, Volunteer
from core.safety.models import Report
from core.stories.models import Story
from kernel.csvfile import csv_text
from ledger.selectors import member_statement
from tenants.models import Network

Row = Mapping[str, Any]

SECTIONS = (
    "profile",
    "email_preferences",
    "push_subscriptions",
    "listings",
    "response_invitations",
    "exchanges",
    "exchange_messages",
    "exchange_proposals",
    "thanks",
    "statement",
    "gifts",
    "group_sessions_given",
    "group_session_bookings",
    "projects_led",
    "volunteering",
    "notifications",
    "equality_answers",
    "cpd_notes",
    "cpd_records",
    "stories",
    "audit_events",
    "reports_made",
    "blocks",
    "announcements",
)
_STATEMENT_PAGE = 500


def member_data(*, member: Member, network: Network) -> dict[str, list[Row]]:
    """Every section of the data of `member` of `network` (the current one), keyed by the
    names in `SECTIONS`. Exchanges hosted by partner networks are read in their schemas."""
    exchanges = list(
        Exchange.objects.filter(Q(giver=member) | Q(receiver=member))
        .select_related("listing", "giver", "receiver")
        .order_by("created_at", "pk")
    )
    exchange_ids = [e.pk for e in exchanges]
    partner = partner_exchanges(member=member, network=network)
    return {
        "profile": [_profile(member)],
        "email_preferences": [
            {"kind": p.kind, "email": p.email, "in_app": p.in_app}
            for p in EmailPreference.objects.filter(member=member).order_by("kind")
        ],
        # The browsers push goes to (their keys are the browser's, not the member's data).
        "push_subscriptions": list(
            PushSubscription.objects.filter(member=member)
            .order_by("created_at", "pk")
            .values("endpoint", "created_at")
        ),
        "listings": list(
            Listing.objects.filter(owner=member)
            .order_by("created_at", "pk")
            .values(
                "id",
                *EDITABLE,
                "status",
                "hidden_reason",
                "created_at",
                "updated_at",
            )
        ),
        # Invitations to respond to a request: those the member received and those made on
        # their requests.
        "response_invitations": list(
            ResponseInvitation.objects.filter(Q(member=member) | Q(listing__owner=member))
            .order_by("created_at", "pk")
            .values("listing_id", "listing__title", "member_id", "created_at")
        ),
        "exchanges": [
            _exchange(e, giving=e.giver_id == member.pk, hosted_by=network) for e in exchanges
        ]
        + [
            _exchange(p.exchange, giving=p.exchange.giver_id is None, hosted_by=p.network)
            for p in partner
        ],
        "exchange_messages": _messages(exchange_ids, hosted_by=network)
        + [row for p in partner for row in _messages([p.exchange.pk], hosted_by=p.network)],
        "exchange_proposals": list(
            Proposal.objects.filter(exchange_id__in=exchange_ids)
            .order_by("exchange_id", "created_at", "pk")
            .values("exchange_id", "proposed_by", "starts_at", "place", "status", "created_at")
        ),
        "thanks": [
            {
                "exchange_id": t.exchange_id,
                "side": t.side,
                "author_name": t.author_name,
                "to_you": t.recipient_id == member.pk,
                "text": t.text,
                "created_at": t.created_at,
            }
            for t in Thanks.objects.filter(exchange_id__in=exchange_ids).order_by(
                "created_at", "pk"
            )
        ],
        "statement": _statement(member),
        "gifts": [asdict(line) for line in member_gifts(member=member)],
        "group_sessions_given": list(
            GroupSession.objects.filter(giver=member)
            .order_by("starts_at", "pk")
            .values(
                "id",
                "title",
                "description",
                "category",
                "format",
                "starts_at",
                "minutes",
                "capacity",
                "place",
                "video_link",
                "state",
                "created_at",
            )
        ),
        "group_session_bookings": list(
            Booking.objects.filter(member=member)
            .order_by("session__starts_at", "pk")
            .values(
                "session_id",
                "session__title",
                "session__starts_at",
                "state",
                "dispute_reason",
                "paid_minutes",
                "confirmed_at",
                "created_at",
            )
        ),
        "projects_led": list(
            Project.objects.filter(lead=member)
            .order_by("created_at", "pk")
            .values(
                "id",
                "title",
                "aim",
                "description",
                "budget_minutes",
                "skills_wanted",
                "starts_on",
                "ends_on",
                "state",
                "declined_reason",
                "created_at",
            )
        ),
        "volunteering": [
            {
                "project_id": v.project_id,
                "project_title": v.project.title,
                "pledged_minutes": v.pledged_minutes,
                "confirmed_minutes": v.confirmed_minutes,
                "joined_at": v.joined_at,
            }
            for v in Volunteer.objects.filter(member=member)
            .select_related("project")
            .order_by("joined_at", "pk")
        ],
        "notifications": list(
            Notification.objects.filter(recipient=member)
            .order_by("created_at", "pk")
            .values("kind", "title", "body", "url", "created_at", "read_at", "emailed_at")
        ),
        "equality_answers": _equality(member),
        "cpd_notes": list(
            EntryNote.objects.filter(member=member)
            .order_by("source", "source_id")
            .values("source", "source_id", "reflection", "participatory", "topic", "format")
        ),
        "cpd_records": list(
            Record.objects.filter(member=member)
            .order_by("issued_at", "pk")
            .values("code", "scheme", "starts_on", "ends_on", "issued_at", "rows")
        ),
        "stories": list(
            Story.objects.filter(author=member)
            .order_by("created_at", "pk")
            .values(
                "source",
                "source_id",
                "subject",
                "text",
                "consent",
                "show_name",
                "withdrawn_at",
                "on_impact",
                "on_home",
                "created_at",
            )
        ),
        "audit_events": list(
            AuditEvent.objects.filter(target_type="members.member", target_id=str(member.pk))
            .order_by("created_at", "pk")
            .values("created_at", "actor_label", "verb", "before", "after", "reason")
        ),
        # What the member reported (never reports about them: that would name reporters).
        "reports_made": list(
            Report.objects.filter(reporter=member)
            .order_by("created_at", "pk")
            .values(
                "target_kind",
                "target_id",
                "target_summary",
                "category",
                "details",
                "status",
                "created_at",
                "handled_at",
            )
        ),
        "blocks": list(
            member_blocks(member=member).values("blocked_id", "blocked__full_name", "created_at")
        ),
        "announcements": list(
            Recipient.objects.filter(member=member)
            .order_by("announcement__sent_at", "pk")
            .values(
                "announcement__title",
                "announcement__sent_at",
                "email",
                "emailed_at",
                "dismissed_at",
            )
        ),
    }


def _profile(member: Member) -> Row:
    return {
        "id": member.pk,
        "email": member.email,
        "full_name": member.full_name,
        "profession": member.get_profession_display() if member.profession else "",
        "job_title": member.job_title,
        "organisation": member.organisation,
        "skills": member.skills,
        "bio": member.bio,
        "availability": member.availability,
        "preferred_formats": member.preferred_format_labels,
        "location": member.location,
        "photo": member.photo.name or "",
        "profile_visibility": member.get_profile_visibility_display(),
        "show_on_map": member.show_on_map,
        "role": member.get_role_display(),
        "state": member.get_state_display(),
        "date_joined": member.date_joined,
        "email_verified_at": member.email_verified_at,
        "last_login": member.last_login,
    }


def _exchange(exchange: Exchange, *, giving: bool, hosted_by: Network) -> Row:
    return {
        "id": exchange.pk,
        "hosted_by": hosted_by.name,
        "listing_id": exchange.listing_id,
        "listing_title": exchange.listing.title,
        "your_side": "giving help" if giving else "receiving help",
        "other_member": exchange.receiver_name if giving else exchange.giver_name,
        "state": exchange.get_state_display(),
        "minutes": exchange.minutes,
        "meeting_at": exchange.meeting_at,
        "meeting_place": exchange.meeting_place,
        "dispute_reason": exchange.dispute_reason,
        "created_at": exchange.created_at,
        "completed_at": exchange.completed_at,
    }


def _messages(exchange_ids: list[int], *, hosted_by: Network) -> list[Row]:
    with tenant_context(hosted_by):
        return [
            {"hosted_by": hosted_by.name, **row}
            for row in Message.objects.filter(exchange_id__in=exchange_ids)
            .order_by("exchange_id", "created_at", "pk")
            .values("exchange_id", "side", "author_name", "body", "created_at")
        ]


def _statement(member: Member) -> list[Row]:
    rows: list[Row] = []
    before = None
    while lines := member_statement(member=member, limit=_STATEMENT_PAGE, before=before):
        rows += [
            {
                "date": line.created_at,
                "type": line.kind_label,
                "with": line.counterparty,
                "memo": line.memo,
                "minutes": line.minutes,
                "balance_after_minutes": line.balance_after,
            }
            for line in lines
        ]
        before = lines[-1].sequence
    return rows


def _equality(member: Member) -> list[Row]:
    answers = equality_answers_get(member=member)
    if answers is None:
        return []
    return [
        {
            "ethnic_group": answers.get_ethnic_group_display(),
            "gender": answers.get_gender_display(),
            "age_band": answers.get_age_band_display(),
            "disability": answers.get_disability_display(),
            "background": answers.get_background_display(),
            "consented_at": answers.consented_at,
        }
    ]


def member_data_zip(*, member: Member, network: Network) -> bytes:
    """The member's data as a zip: `data.json` with every section, and `<section>.csv`
    for each (lists joined with "; ", nested values as JSON)."""
    data = member_data(member=member, network=network)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2))
        for section in SECTIONS:
            archive.writestr(f"{section}.csv", _csv(data[section]))
    return buffer.getvalue()


def _csv(rows: Iterable[Row]) -> str:
    rows = list(rows)
    if not rows:
        return ""
    header = list(rows[0])
    return csv_text([header, *([_cell(row[key]) for key in header] for row in rows)])


def _cell(value: object) -> object:
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, cls=DjangoJSONEncoder)
    if value is None:
        return ""
    return DjangoJSONEncoder().default(value) if hasattr(value, "isoformat") else value

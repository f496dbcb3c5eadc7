"""Writing a member's record: their scheme, their reflections and corrections, and issuing
a record for download (the snapshot an appraiser's verification reads).

Only the member writes to their own record; nothing here changes what a source says
happened (its date, minutes and role), which the ledger backs.
"""

from __future__ import annotations

import datetime
import secrets

from django.utils import timezone
from django.utils.translation import gettext as _

from core.members.models import Member
from kernel.db import connection, durable_service
from kernel.errors import ApplicationError
from kernel.text import plain_text

from .models import REFLECTION_LIMIT, TOPIC_LIMIT, CpdSettings, EntryNote, Format, Record, Scheme
from .selectors import cpd_entries, cpd_entry, cpd_scheme
from .signing import record_digest

# Codes are read aloud and typed: no 0/O, 1/I/L or U. 12 of 30 characters is some 59 bits,
# behind a rate limit.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
CODE_LENGTH = 12
LONGEST_RANGE_YEARS = 10


class CpdRefused(ApplicationError):
    pass


def code_format(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


@durable_service
def cpd_scheme_set(*, actor: Member, scheme: str) -> CpdSettings:
    """The member chooses the scheme their record is measured against."""
    if scheme not in Scheme.values:
        raise CpdRefused(_("Choose one of the schemes offered."), field="scheme")
    found, _created = CpdSettings.objects.update_or_create(
        member=actor, defaults={"scheme": scheme}
    )
    return found


@durable_service
def cpd_note_save(
    *,
    actor: Member,
    source: str,
    source_id: int,
    reflection: str = "",
    participatory: bool | None = None,
    topic: str = "",
    format: str = "",
) -> EntryNote:
    """The member's reflection on an entry of their own record and their corrections of
    it (an empty topic or format, or participatory None, leave the source's). Refused as
    not found for an entry that is not theirs."""
    cpd_entry(member=actor, source=source, source_id=source_id)
    if format not in ("", *Format.values):
        raise CpdRefused(_("Choose in person or virtual."), field="format")
    if participatory is not None and not isinstance(participatory, bool):
        raise CpdRefused(_("Say whether it was participatory."), field="participatory")
    text = plain_text(
        reflection, name="reflection", limit=REFLECTION_LIMIT, missing=None, refusal=CpdRefused
    )
    subject = plain_text(topic, name="topic", limit=TOPIC_LIMIT, missing=None, refusal=CpdRefused)
    note, _created = EntryNote.objects.update_or_create(
        member=actor,
        source=source,
        source_id=source_id,
        defaults={
            "reflection": text,
            "participatory": participatory,
            "topic": subject,
            "format": format,
        },
    )
    return note


def _check_range(start: datetime.date | None, end: datetime.date | None) -> None:
    if start and end and start > end:
        raise CpdRefused(_("The start date must be on or before the end date."), field="start")
    first, last = start or datetime.date(2000, 1, 1), end or timezone.localdate()
    if (last - first).days > 366 * LONGEST_RANGE_YEARS and start is not None:
        raise CpdRefused(_("Choose a range of at most ten years."), field="start")


@durable_service
def cpd_record_issue(
    *, actor: Member, start: datetime.date | None = None, end: datetime.date | None = None
) -> Record:
    """Issue the member's record for [start, end]: a snapshot of its rows (never
    reflections) under a new code, signed (`signing.record_digest`). The same rows issued
    again (a second download) return the record already issued, with its code."""
    _check_range(start, end)
    scheme = cpd_scheme(member=actor)
    rows = [shown.row() for shown in cpd_entries(member=actor, start=start, end=end)]
    same = Record.objects.filter(
        member=actor,
        member_name=actor.full_name,
        scheme=scheme,
        starts_on=start,
        ends_on=end,
        rows=rows,
    ).first()
    if same is not None:
        return same
    code = "".join(secrets.choice(CODE_ALPHABET) for _position in range(CODE_LENGTH))
    issued_at = timezone.now()
    digest = record_digest(
        schema=connection.schema_name,
        code=code,
        member_name=actor.full_name,
        scheme=scheme,
        starts_on=start,
        ends_on=end,
        rows=rows,
        issued_at=issued_at,
    )
    return Record.objects.create(
        code=code,
        member=actor,
        member_name=actor.full_name,
        scheme=scheme,
        starts_on=start,
        ends_on=end,
        rows=rows,
        issued_at=issued_at,
        digest=digest,
    )


def cpd_erase_for_member(*, member: Member) -> None:
    """For a closing account (inside its transaction): the member's reflections, notes and
    scheme, and the records they issued, which then no longer verify (they name them)."""
    EntryNote.objects.filter(member=member).delete()
    CpdSettings.objects.filter(member=member).delete()
    Record.objects.filter(member=member).delete()

"""Reading a member's learning record, its totals against their scheme, and issued
records for the verification page."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.members.models import Member
from kernel.db import connection
from kernel.errors import NotFound

from .models import CpdSettings, EntryNote, Record, Scheme
from .schemes import TARGETS, Target
from .signing import digest_matches, record_digest
from .sources import SOURCES, Entry


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """An entry as the member's record shows it: the source's facts, with the member's
    corrections applied, and their reflection (which only they ever see)."""

    entry: Entry
    format: str
    topic: str
    participatory: bool
    reflection: str

    @property
    def key(self) -> str:
        return f"{self.entry.source}:{self.entry.source_id}"

    def row(self) -> dict[str, Any]:
        """The entry as an issued record keeps it: never the reflection."""
        return {
            "date": self.entry.on.isoformat(),
            "minutes": self.entry.minutes,
            "format": self.format,
            "role": self.entry.role,
            "topic": self.topic,
            "participatory": self.participatory,
            "counts": self.entry.counts,
        }


def cpd_scheme(*, member: Member) -> str:
    found = CpdSettings.objects.filter(member=member).values_list("scheme", flat=True).first()
    return found or Scheme.NONE


def cpd_entries(
    *, member: Member, start: datetime.date | None = None, end: datetime.date | None = None
) -> list[RecordEntry]:
    """The member's entries dated in [start, end], oldest first: one query per source and
    one for the member's notes."""
    entries = [entry for source in SOURCES.values() for entry in source(member, start, end)]
    notes = {
        (note.source, note.source_id): note for note in EntryNote.objects.filter(member=member)
    }
    shown = []
    for entry in sorted(entries, key=lambda e: (e.on, e.source, e.source_id)):
        note = notes.get((entry.source, entry.source_id))
        shown.append(
            RecordEntry(
                entry=entry,
                format=(note.format if note and note.format else entry.format),
                topic=(note.topic if note and note.topic else entry.topic),
                participatory=(
                    note.participatory
                    if note and note.participatory is not None
                    else entry.participatory
                ),
                reflection=note.reflection if note else "",
            )
        )
    return shown


def cpd_entry(*, member: Member, source: str, source_id: int) -> RecordEntry:
    """One entry of the member's own record; anything else (another member's, a source
    that does not exist) is not found."""
    if source not in SOURCES:
        raise NotFound("No such entry in your record.")
    for shown in cpd_entries(member=member):
        if shown.entry.source == source and shown.entry.source_id == source_id:
            return shown
    raise NotFound("No such entry in your record.")


@dataclass(frozen=True)
class Totals:
    entries: int
    minutes: int
    participatory_minutes: int
    reflections: int
    target: Target

    @staticmethod
    def _percent(done: int, wanted: int) -> int | None:
        return min(100, done * 100 // wanted) if wanted else None

    @property
    def minutes_percent(self) -> int | None:
        return self._percent(self.minutes, self.target.minutes)

    @property
    def participatory_percent(self) -> int | None:
        return self._percent(self.participatory_minutes, self.target.participatory_minutes)

    @property
    def reflections_percent(self) -> int | None:
        return self._percent(self.reflections, self.target.reflections)

    def as_dict(self) -> dict[str, int]:
        return {
            "entries": self.entries,
            "minutes": self.minutes,
            "participatory_minutes": self.participatory_minutes,
        }


def cpd_totals(rows: Iterable[dict[str, Any]], *, scheme: str, reflections: int = 0) -> Totals:
    """Hours and participatory hours of the rows that count (a gift never does)."""
    counted = [row for row in rows if row["counts"]]
    return Totals(
        entries=len(counted),
        minutes=sum(row["minutes"] for row in counted),
        participatory_minutes=sum(row["minutes"] for row in counted if row["participatory"]),
        reflections=reflections,
        target=TARGETS.get(scheme, TARGETS[Scheme.NONE]),
    )


def code_clean(code: str) -> str:
    """A code as stored: what the member typed or the URL carries, without its dashes."""
    return code.replace("-", "").replace(" ", "").upper()


class Verdict(StrEnum):
    GENUINE = "genuine"
    ALTERED = "altered"


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    record: Record
    totals: Totals


def record_verify(*, code: str) -> Verification:
    """The issued record with this code in this network, and whether its stored rows
    still match their digest. A code from another network is unknown here (NotFound)."""
    record = Record.objects.filter(code=code_clean(code)).first()
    if record is None:
        raise NotFound("No record with this code was issued on this network.")
    digest = record_digest(
        schema=connection.schema_name,
        code=record.code,
        member_name=record.member_name,
        scheme=record.scheme,
        starts_on=record.starts_on,
        ends_on=record.ends_on,
        rows=record.rows,
        issued_at=record.issued_at,
    )
    rows = record.rows if isinstance(record.rows, list) else []
    genuine = digest_matches(record.digest, digest)
    return Verification(
        verdict=Verdict.GENUINE if genuine else Verdict.ALTERED,
        record=record,
        totals=cpd_totals(rows if genuine else [], scheme=record.scheme),
    )

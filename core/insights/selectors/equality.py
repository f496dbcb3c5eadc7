"""Equality monitoring, the reading side: a member's own answers, and the aggregate reports
that compare groups for a network's organisers (summed across networks for platform staff:
`selectors.platform`). Saving and withdrawing answers, and the audited export, are in
`services.equality`.

Who sees what:
- A member sees and changes only their own answers; withdrawing deletes them.
- Organisers (`insights.view_equality_report`) see counts by group, never a member.
- Staff see the same counts summed across networks, suppressed after summing.
- Every published figure about 0-7 people is `*`, and further cells are hidden so that
  none can be worked out from the totals (core/insights/suppression.py). A 0 is hidden
  like a small count: otherwise `*` turning into 0 when one member leaves a group would
  say which group they left.
- Shown counts are rounded to the nearest 5 and hours to the nearest 5 hours, as NHS
  statistical disclosure control does, so one member's change rarely moves a figure.
- An organiser's report is published from a monthly snapshot (`EqualitySnapshot`, taken
  on the 1st or by the month's first report): every report in a month is the same, so
  comparing reports before and after one member's change (withdrawing their answers,
  say) shows nothing. A change shows in the next month's report, among everyone else's.

The figures come from the ledger (`ledger.selectors.member_activity_sql`): a member is
*active* if they took part in an exchange, project or exchange with another network in the
period (a transfer of those kinds that was not reversed); *hours given* are the credits
those transfers paid them, *hours received* the credits they spent on exchanges (here or
with another network). Reversals count against the transfer they undo, dated as it was.
Members are those who can take part now (active accounts); the answers of anyone else
are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg import sql

from core.insights.models import (
    BACKGROUND_SECTIONS,
    ETHNIC_GROUP_SECTIONS,
    PREFER_NOT_TO_SAY,
    AgeBand,
    Background,
    Disability,
    EqualityAnswers,
    EqualitySnapshot,
    EthnicGroup,
    Gender,
)
from core.insights.suppression import Cell, is_small, suppress
from core.insights.suppression import Sum as Total
from core.members.models import Member
from kernel.csvfile import csv_text
from kernel.db import connection
from kernel.errors import PermissionDenied
from ledger.selectors import member_activity_sql

PERIOD = timedelta(days=365)
REPORT_PERMISSION = "insights.view_equality_report"
QUESTIONS: dict[str, type[EthnicGroup | Gender | AgeBand | Disability | Background]] = {
    "ethnic_group": EthnicGroup,
    "gender": Gender,
    "age_band": AgeBand,
    "disability": Disability,
    "background": Background,
}
# Platform figures read this many network schemas per statement.
SCHEMAS_PER_QUERY = 200


# --- The member's own answers ---------------------------------------------------------


def equality_answers_get(*, member: Member) -> EqualityAnswers | None:
    """The member's own answers, or None if they have not given any (or withdrew)."""
    return EqualityAnswers.objects.filter(member=member).first()


# --- Figures by group -------------------------------------------------------------------


@dataclass(frozen=True)
class GroupFigures:
    """Raw figures for one group of members (never published as they are)."""

    members: int = 0
    active: int = 0
    givers: int = 0  # members who gave any hours
    given: int = 0  # minutes
    receivers: int = 0
    received: int = 0  # minutes

    def __add__(self, other: GroupFigures) -> GroupFigures:
        return GroupFigures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


NONE = GroupFigures()
ALL = ("all", "")  # the key of the all-members figures
NOT_ANSWERED = ""


@dataclass(frozen=True)
class Group:
    label: str
    answers: tuple[str, ...]
    children: tuple[Group, ...] = ()


@dataclass(frozen=True)
class Characteristic:
    key: str
    title: str
    groups: tuple[Group, ...]


def _leaves(choices: Iterable[tuple[str, str]]) -> tuple[Group, ...]:
    return tuple(Group(str(label), (value,)) for value, label in choices)


def _sections(
    sections: Sequence[tuple[str, Sequence[str]]], labels: Mapping[str, str]
) -> tuple[Group, ...]:
    return tuple(
        Group(title, tuple(values), _leaves((v, labels[v]) for v in values))
        for title, values in sections
    )


_TAIL = (Group("Prefer not to say", (PREFER_NOT_TO_SAY,)), Group("Not answered", (NOT_ANSWERED,)))


def _characteristics() -> tuple[Characteristic, ...]:
    ethnic = _sections(ETHNIC_GROUP_SECTIONS, {v: str(label) for v, label in EthnicGroup.choices})
    labels = {v: str(label) for v, label in Background.choices}
    background = (
        *_sections(BACKGROUND_SECTIONS, labels),
        Group(labels[Background.OTHER], (Background.OTHER,)),
    )

    def plain(choices: type[Gender | AgeBand]) -> tuple[Group, ...]:
        return _leaves((v, str(label)) for v, label in choices.choices if v != PREFER_NOT_TO_SAY)

    disability = (Group("Disabled", (Disability.YES,)), Group("Not disabled", (Disability.NO,)))
    return (
        Characteristic("ethnic_group", "Ethnic group", (*ethnic, *_TAIL)),
        Characteristic("gender", "Gender", (*plain(Gender), *_TAIL)),
        Characteristic("age_band", "Age", (*plain(AgeBand), *_TAIL)),
        Characteristic("disability", "Disability (Equality Act 2010)", (*disability, *_TAIL)),
        Characteristic(
            "background",
            "Socio-economic background (parental occupation at 14)",
            (*background, *_TAIL),
        ),
    )


CHARACTERISTICS = _characteristics()


@dataclass(frozen=True)
class ReportRow:
    """One published row: None marks a suppressed figure (shown as `*`)."""

    label: str
    level: int  # 0: a group; 1: a group within the row above it; -1: all members
    section: str  # the level-0 group a level-1 row belongs to
    members: int | None
    active: int | None
    given: int | None  # minutes
    received: int | None  # minutes

    @property
    def is_total(self) -> bool:
        return self.level < 0

    @property
    def hours_given(self) -> float | None:
        return None if self.given is None else round(self.given / 60, 1)

    @property
    def hours_received(self) -> float | None:
        return None if self.received is None else round(self.received / 60, 1)

    @property
    def active_share(self) -> int | None:
        """Active members as a whole percentage of members, when both are published."""
        if self.members is None or self.active is None or not self.members:
            return None
        return round(100 * self.active / self.members)


@dataclass(frozen=True)
class ReportTable:
    key: str
    title: str
    rows: tuple[ReportRow, ...]


MEASURES = ("members", "active", "given", "received")
_PEOPLE = {"members": "members", "active": "active", "given": "givers", "received": "receivers"}


def equality_tables(figures: Mapping[tuple[str, str], GroupFigures]) -> list[ReportTable]:
    """Every characteristic's table, suppressed, from raw figures keyed by (question,
    answer) with `ALL` for all members and "" as the answer of those who gave none.

    Pure: the whole of what is published is decided here, from the figures alone.
    """
    return [_table(c, figures) for c in CHARACTERISTICS]


def _table(
    characteristic: Characteristic, figures: Mapping[tuple[str, str], GroupFigures]
) -> ReportTable:
    # Rows: all members, then each group followed by its sub-groups.
    rows: list[tuple[str, int, str, GroupFigures]] = [
        ("All members", -1, "", figures.get(ALL, NONE))
    ]
    parents: list[tuple[int, list[int]]] = []  # (row, its sub-group rows)
    top: list[int] = []
    for group in characteristic.groups:
        top.append(len(rows))
        rows.append((group.label, 0, group.label, _figures(characteristic.key, group, figures)))
        if group.children:
            parents.append((top[-1], []))
            for child in group.children:
                parents[-1][1].append(len(rows))
                rows.append(
                    (child.label, 1, group.label, _figures(characteristic.key, child, figures))
                )
    cells: dict[tuple[int, str], Cell] = {}
    for n, (_label, level, _section, figs) in enumerate(rows):
        total = level < 0
        # A group of 1-7 members is hidden whole: even "0 active" would say something
        # about each of them.
        small_group = is_small(figs.members)
        for measure in MEASURES:
            people = figs.members if small_group else getattr(figs, _PEOPLE[measure])
            cells[n, measure] = Cell(getattr(figs, measure), people, known=total)
        # Inactive members are implied (members - active), so they are protected too.
        inactive = figs.members - figs.active
        cells[n, "inactive"] = Cell(inactive, 0 if total else inactive, shown=False)
    sums: list[Total[tuple[int, str]]] = []
    for measure in (*MEASURES, "inactive"):
        sums.append(Total((0, measure), tuple((n, measure) for n in top)))
        sums.extend(
            Total((parent, measure), tuple((n, measure) for n in children))
            for parent, children in parents
        )
    sums.extend(Total((n, "members"), ((n, "active"), (n, "inactive"))) for n in range(len(rows)))
    hidden = suppress(cells, sums, hide_zeros=True)
    return ReportTable(
        key=characteristic.key,
        title=characteristic.title,
        rows=tuple(
            ReportRow(
                label,
                level,
                section,
                *(
                    None if (n, m) in hidden else rounded(cells[n, m].value, ROUNDING[m])
                    for m in MEASURES
                ),
            )
            for n, (label, level, section, _) in enumerate(rows)
        ),
    )


# Published counts to the nearest 5 people; hours to the nearest 5 hours (in minutes).
ROUNDING = {"members": 5, "active": 5, "given": 5 * 60, "received": 5 * 60}


def rounded(value: int, step: int) -> int:
    """`value` to the nearest multiple of `step`, halves up (figures are never negative)."""
    return (value + step // 2) // step * step


def _figures(
    key: str, group: Group, figures: Mapping[tuple[str, str], GroupFigures]
) -> GroupFigures:
    total = NONE
    for answer in group.answers:
        total += figures.get((key, answer), NONE)
    return total


# One network schema's figures in one statement. Per current member, from the ledger
# (`member_activity_sql`): whether they took part, the minutes they were given and received;
# then counted under every answer at once (each member once per question, and once under
# "all"). Members and ledger rows meet in one GROUP BY over a UNION ALL rather than a join
# to an aggregate, so the plan stays linear even before the planner has statistics for a
# young schema.
_SCHEMA_FIGURES = """
SELECT {label}, c.question, c.answer,
       count(*), count(*) FILTER (WHERE p.active),
       count(*) FILTER (WHERE p.given > 0), coalesce(sum(p.given), 0)::bigint,
       count(*) FILTER (WHERE p.received > 0), coalesce(sum(p.received), 0)::bigint
  FROM (
        SELECT x.member_id, bool_or(x.active) AS active,
               sum(x.given) AS given, sum(x.received) AS received
          FROM (
                SELECT m.id AS member_id, true AS member, false AS active,
                       0::bigint AS given, 0::bigint AS received
                  FROM {schema}.members_member m
                 WHERE m.is_active AND m.state = 'active' AND NOT m.is_staff
                 UNION ALL
                SELECT l.member_id, false, l.active, l.given, l.received FROM ({ledger}) l
               ) x
         GROUP BY x.member_id
        HAVING bool_or(x.member)
       ) p
  LEFT JOIN {schema}.insights_equalityanswers q ON q.member_id = p.member_id
 CROSS JOIN LATERAL (VALUES
       ('all', ''),
       ('ethnic_group', coalesce(q.ethnic_group, '')),
       ('gender', coalesce(q.gender, '')),
       ('age_band', coalesce(q.age_band, '')),
       ('disability', coalesce(q.disability, '')),
       ('background', coalesce(q.background, ''))
       ) AS c(question, answer)
 GROUP BY c.question, c.answer
"""


def equality_figures(
    schemas: Sequence[str], *, since: datetime
) -> dict[str, dict[tuple[str, str], GroupFigures]]:
    """Raw, unsuppressed figures by network schema and (question, answer), for activity
    since `since`: input to `equality_tables`, never to be shown as they are.

    Reads up to `SCHEMAS_PER_QUERY` schemas per statement (a UNION ALL of one block per
    schema, its tables named with their schema), so any number of networks costs a
    bounded number of round trips."""
    found: dict[str, dict[tuple[str, str], GroupFigures]] = {s: {} for s in schemas}
    for start in range(0, len(schemas), SCHEMAS_PER_QUERY):
        blocks = [
            sql.SQL(_SCHEMA_FIGURES).format(
                label=sql.Literal(s),
                schema=sql.Identifier(s),
                ledger=member_activity_sql(s, since=sql.Placeholder("since")),
            )
            for s in schemas[start : start + SCHEMAS_PER_QUERY]
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL(" UNION ALL ").join(blocks), {"since": since})
            for schema, question, answer, *numbers in cursor.fetchall():
                found[schema][question, answer] = GroupFigures(*numbers)
    return found


@dataclass(frozen=True)
class EqualityReport:
    since: datetime
    until: datetime
    tables: list[ReportTable]


def equality_report(*, actor: Member, now: datetime | None = None) -> EqualityReport:
    """The current network's equality report for an organiser, from this month's snapshot
    (taken now, in one statement, if this is the month's first report): figures for the
    year up to when the snapshot was taken.

    Refused (PermissionDenied) to anyone without `insights.view_equality_report`."""
    if not actor.has_perm(REPORT_PERMISSION):
        raise PermissionDenied(_("Only the network's organisers can see the equality report."))
    snapshot = equality_snapshot_current(now=now or timezone.now())
    figures = {
        (question, answer): GroupFigures(*numbers)
        for question, answer, *numbers in snapshot.figures
    }
    return EqualityReport(
        since=snapshot.taken_at - PERIOD, until=snapshot.taken_at, tables=equality_tables(figures)
    )


def equality_snapshot_current(*, now: datetime) -> EqualitySnapshot:
    """This month's snapshot, taken from the current figures if there is none yet; the
    previous months' are deleted with it (only the current one is ever published). A read
    that writes once a month, inside the caller's transaction: every report of the month
    is then the same."""
    month = timezone.localdate(now).replace(day=1)
    existing = EqualitySnapshot.objects.filter(month=month).first()
    if existing is not None:
        return existing
    schema = connection.schema_name
    figures = equality_figures([schema], since=now - PERIOD)[schema]
    try:
        with transaction.atomic():
            EqualitySnapshot.objects.filter(month__lt=month).delete()
            return EqualitySnapshot.objects.create(
                month=month,
                taken_at=now,
                figures=[[*key, *astuple(figs)] for key, figs in sorted(figures.items())],
            )
    except IntegrityError:  # a concurrent first report of the month took it
        return EqualitySnapshot.objects.get(month=month)


CSV_HEADER = [
    "characteristic",
    "group",
    "within",
    "members",
    "active members",
    "hours given",
    "hours received",
]


def equality_report_csv(tables: Iterable[ReportTable]) -> str:
    """Equality tables as CSV, suppressed figures as `*`."""
    rows = (
        [
            table.title,
            row.label,
            row.section if row.level > 0 else "",
            *(
                _csv_number(v)
                for v in (row.members, row.active, row.hours_given, row.hours_received)
            ),
        ]
        for table in tables
        for row in table.rows
    )
    return csv_text([CSV_HEADER, *rows])


def _csv_number(value: float | None) -> str:
    """`*` for a hidden figure; whole numbers without a decimal point, hours to 0.1."""
    return "*" if value is None else f"{value:.1f}".removesuffix(".0")

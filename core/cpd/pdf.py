"""An issued record as a PDF (ReportLab's platypus: pure Python, no system libraries): the
member, the range and scheme, the totals against it, the rows, and on every page the code
and the address where an appraiser checks it."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ledger.services import minutes_as_text

from .models import Format, Record, Scheme
from .selectors import Totals, cpd_totals
from .services import code_format

ROLE_LABELS = {
    "gave": gettext_lazy("Gave"),
    "received": gettext_lazy("Received"),
    "gift": gettext_lazy("Gift"),
}


def _range(record: Record) -> str:
    start = record.starts_on.strftime("%d %b %Y") if record.starts_on else _("the start")
    end = (
        record.ends_on.strftime("%d %b %Y")
        if record.ends_on
        else record.issued_at.strftime("%d %b %Y")
    )
    return _("%(start)s to %(end)s") % {"start": start, "end": end}


def _totals_lines(totals: Totals) -> list[str]:
    target = totals.target
    lines = [_("Hours of CPD: %(done)s") % {"done": minutes_as_text(totals.minutes)}]
    if target.minutes:
        lines[0] += _(" (the scheme asks for %(wanted)s)") % {
            "wanted": minutes_as_text(target.minutes)
        }
    participatory = _("Participatory hours: %(done)s") % {
        "done": minutes_as_text(totals.participatory_minutes)
    }
    if target.participatory_minutes:
        participatory += _(" (the scheme asks for %(wanted)s)") % {
            "wanted": minutes_as_text(target.participatory_minutes)
        }
    return [*lines, participatory, _("Entries: %(count)d") % {"count": totals.entries}]


def record_pdf(*, record: Record, network_name: str, verify_url: str) -> bytes:
    """The PDF of an issued record. Reflections are never in it: a record has none."""
    styles = getSampleStyleSheet()
    buffer = io.BytesIO()
    code = code_format(record.code)
    footer = _("Verification code %(code)s. Check it at %(url)s") % {
        "code": code,
        "url": verify_url,
    }

    def stamp(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        for i, line in enumerate(simpleSplit(footer, "Helvetica", 8, A4[0] - 30 * mm)):
            canvas.drawString(15 * mm, 12 * mm - i * 10, line)
        canvas.restoreState()

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=22 * mm,
        title=_("CPD record of %(name)s") % {"name": record.member_name},
        author=network_name,
        subject=footer,
    )
    rows: list[dict[str, Any]] = record.rows
    totals = cpd_totals(rows, scheme=record.scheme)
    story: list[Any] = [
        Paragraph(
            escape(_("CPD record: %(name)s") % {"name": record.member_name}), styles["Title"]
        ),
        Paragraph(
            escape(
                _("%(network)s, %(range)s. Scheme: %(scheme)s.")
                % {
                    "network": network_name,
                    "range": _range(record),
                    "scheme": Scheme(record.scheme).label,
                }
            ),
            styles["Normal"],
        ),
        Spacer(1, 4 * mm),
        *[Paragraph(escape(line), styles["Normal"]) for line in _totals_lines(totals)],
        Spacer(1, 4 * mm),
    ]
    cell = styles["BodyText"]
    cell.fontSize, cell.leading = 8, 10
    header: list[Any] = [
        _("Date"),
        _("Hours"),
        _("Format"),
        _("Role"),
        _("Topic"),
        _("Participatory"),
    ]
    formats = dict(Format.choices)
    table = [header] + [
        [
            row["date"],
            minutes_as_text(row["minutes"]) if row["counts"] else "-",
            str(formats.get(row["format"], "")),
            str(ROLE_LABELS.get(row["role"], row["role"])),
            Paragraph(escape(row["topic"]), cell),
            (_("Yes") if row["participatory"] else _("No")) if row["counts"] else "",
        ]
        for row in rows
    ]
    if len(table) == 1:
        story.append(Paragraph(escape(_("No entries in this range.")), styles["Normal"]))
    else:
        grid = Table(
            table, repeatRows=1, colWidths=[22 * mm, 20 * mm, 20 * mm, 18 * mm, None, 24 * mm]
        )
        grid.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), "Helvetica", 8),
                    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edee")),
                ]
            )
        )
        story.append(grid)
    story += [
        Spacer(1, 6 * mm),
        Paragraph(
            escape(
                _(
                    "Issued %(when)s. Anyone can check that this record is genuine and "
                    "unchanged, without signing in, at %(url)s (code %(code)s)."
                )
                % {
                    "when": record.issued_at.strftime("%d %b %Y %H:%M UTC"),
                    "url": verify_url,
                    "code": code,
                }
            ),
            styles["Normal"],
        ),
    ]
    doc.build(story, onFirstPage=stamp, onLaterPages=stamp)
    return buffer.getvalue()

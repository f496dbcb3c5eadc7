"""What each scheme asks of a member's CPD, as the page's progress and the PDF's totals
measure it. The figures and where they come from (docs/decisions.md, "CPD record"):

- NMC (The Code; "How to revalidate with the NMC", 2019 edition): every three years,
  35 hours of CPD of which 20 participatory, and five written reflective accounts.
- GMC: the GMC sets no hours ("Guidance on continuing professional development", 2012);
  the Academy of Medical Royal Colleges' "Core principles for CPD" (2016) advise at
  least 50 credits (one credit = one hour) a year, 250 over the five-year cycle, which
  appraisers commonly apply.
- HCPC ("Standards of continuing professional development"): no hours; a continuous,
  up-to-date and accurate record of a mix of activities, audited two-yearly.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import Scheme


@dataclass(frozen=True)
class Target:
    years: int  # the period the scheme counts over (0: none)
    minutes: int  # 0: no hours asked for
    participatory_minutes: int
    reflections: int
    summary: str | Promise


TARGETS: dict[str, Target] = {
    Scheme.NMC: Target(
        years=3,
        minutes=35 * 60,
        participatory_minutes=20 * 60,
        reflections=5,
        summary=_(
            "The NMC asks for 35 hours of CPD over the three years before you "
            "revalidate, 20 of them participatory, and five written reflections."
        ),
    ),
    Scheme.GMC: Target(
        years=1,
        minutes=50 * 60,
        participatory_minutes=0,
        reflections=0,
        summary=_(
            "The GMC sets no hours; the Academy of Medical Royal Colleges advises at "
            "least 50 hours of CPD a year, which appraisers commonly look for."
        ),
    ),
    Scheme.HCPC: Target(
        years=2,
        minutes=0,
        participatory_minutes=0,
        reflections=0,
        summary=_(
            "The HCPC asks for no set hours but a continuous, up-to-date record of a "
            "mix of learning; it audits a sample of registrants every two years."
        ),
    ),
    Scheme.NONE: Target(
        years=0,
        minutes=0,
        participatory_minutes=0,
        reflections=0,
        summary=_("Choose your scheme to see your progress against what it asks for."),
    ),
}


def scheme_period(
    scheme: str, *, today: datetime.date
) -> tuple[datetime.date | None, datetime.date]:
    """The period a scheme counts over, ending today (all time for none)."""
    years = TARGETS[scheme].years
    if not years:
        return None, today
    try:
        start = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        start = today.replace(year=today.year - years, day=28)
    return start + datetime.timedelta(days=1), today

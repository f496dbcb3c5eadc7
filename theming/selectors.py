from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django_tenants.utils import get_public_schema_name

from core.members.models import Role
from core.members.selectors import members_with_permission
from tenants.models import Network

from .models import AccessibilityStatement, Theme

# What the browser tests' axe runs found, refreshed by
# `HEXITIME_AXE_REPORT=1 make test ARGS="-m browser tests/browser"` (tests/browser/conftest.py).
AXE_REPORT = Path(__file__).resolve().parent / "accessibility" / "axe-report.json"


def theme_for(network: Network) -> Theme:
    """The network's theme, or the default one (unsaved) if it has never been changed."""
    try:
        # Loaded with the network by the tenant middleware (tenants.middleware.get_tenant).
        return network.theme
    except Theme.DoesNotExist:
        return Theme(network=network)


def accessibility_statement_for(network: Network) -> AccessibilityStatement:
    """The network's statement settings, or the defaults (unsaved) if never set."""
    return AccessibilityStatement.objects.filter(network=network).first() or (
        AccessibilityStatement(network=network)
    )


def accessibility_contact_emails(statement: AccessibilityStatement) -> list[str]:
    """Where to report a problem: the address the organisers set, else every organiser's
    (run inside the network: organisers are its members)."""
    if statement.contact_email:
        return [statement.contact_email]
    organisers = members_with_permission("theming.change_theme").filter(role=Role.ORGANISER)
    return list(organisers.values_list("email", flat=True))


@dataclass(frozen=True)
class AxeViolation:
    rule: str
    impact: str
    help: str
    page: str


@dataclass(frozen=True)
class AxeReport:
    tested_on: date | None
    violations: list[AxeViolation]


def axe_report() -> AxeReport:
    """The committed report of the automated (axe-core) checks, in a fixed order."""
    path = Path(getattr(settings, "HEXITIME_AXE_REPORT_PATH", None) or AXE_REPORT)
    data = json.loads(path.read_text())
    tested_on = date.fromisoformat(data["tested_on"]) if data.get("tested_on") else None
    violations = sorted(
        (
            AxeViolation(rule=v["rule"], impact=v["impact"], help=v["help"], page=v["page"])
            for v in data.get("violations", [])
        ),
        key=lambda v: (v.page, v.rule),
    )
    return AxeReport(tested_on=tested_on, violations=violations)


@dataclass(frozen=True)
class StatementShown:
    """What the accessibility statement shows, page and API alike."""

    statement: AccessibilityStatement
    site_name: str
    emails: list[str]
    known_issues: list[str]
    report: AxeReport


def accessibility_statement_shown(network: Network | None) -> StatementShown:
    """The statement of `network` (run inside it), or the platform's on the public site
    (`None` or the public schema): its contact addresses, the organisers' known issues one
    per line, and the automated checks' report."""
    if network is None or network.schema_name == get_public_schema_name():
        statement = AccessibilityStatement()
        emails = [settings.HEXITIME_ACCESSIBILITY_EMAIL]
        site_name = "Hexitime"
    else:
        statement = accessibility_statement_for(network)
        emails = accessibility_contact_emails(statement)
        site_name = network.name
    issues = [line.strip() for line in statement.known_issues.splitlines() if line.strip()]
    return StatementShown(
        statement=statement,
        site_name=site_name,
        emails=emails,
        known_issues=issues,
        report=axe_report(),
    )

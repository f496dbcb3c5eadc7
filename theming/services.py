"""Changing a network's branding: colours that pass WCAG AA, logos that are what they say."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from core.audit.services import audit_record
from core.members.models import Member
from kernel.errors import ApplicationError
from tenants.models import Network

from .contrast import AA_TEXT, HEX_COLOUR, contrast_ratio, passing_shade
from .models import AccessibilityStatement, Compliance, Enforcer, Theme

WHITE = "#ffffff"
PAGE_BACKGROUNDS = [WHITE, "#f0f4f5"]  # the surface and page colours of base.css
MAX_LOGO_BYTES = 200 * 1024
MAX_FAVICON_BYTES = 50 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "use"}
_SAFE_URL = re.compile(r"^(https://|http://|mailto:)", re.I)


class ThemeRefused(ApplicationError):
    pass


def colour_check(*, field: str, colour: str, label: str, against: list[str], role: str) -> None:
    """Refuse a colour that fails AA (4.5:1) for text, naming the ratio and a passing shade."""
    if not HEX_COLOUR.match(colour or ""):
        raise ThemeRefused(f"{label} must be a colour like #005eb8.", field=field)
    worst = min(against, key=lambda other: contrast_ratio(colour, other))
    ratio = contrast_ratio(colour, worst)
    if ratio < AA_TEXT:
        suggestion = passing_shade(colour, against=against)
        raise ThemeRefused(
            f"{label} {colour} has a contrast ratio of {ratio:.1f}:1 {role}; text needs at "
            f"least {AA_TEXT}:1 to be readable (WCAG AA). {suggestion} is the nearest shade "
            "that passes.",
            field=field,
            ratio=round(ratio, 2),
            suggestion=suggestion,
        )


def logo_check(
    upload: UploadedFile[bytes],
    *,
    field: str = "logo",
    label: str = "logo",
    max_bytes: int = MAX_LOGO_BYTES,
) -> str:
    """Return the image's file extension (png or svg) if it is a safe PNG or SVG image,
    judged by its content, never by its name."""
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if len(data) > max_bytes:
        raise ThemeRefused(
            f"The {label} is larger than {max_bytes // 1024} KB. Please upload a smaller file.",
            field=field,
        )
    if data.startswith(PNG_SIGNATURE) and data[12:16] == b"IHDR":
        return "png"
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith(("<?xml", "<svg")):
        _svg_check(text, field=field, label=label)
        return "svg"
    raise ThemeRefused(f"The {label} must be a PNG or SVG image.", field=field)


def _svg_check(text: str, *, field: str, label: str) -> None:
    refused = ThemeRefused(
        f"This SVG contains scripts, links or embedded content, which a {label} may not. "
        "Please export a plain SVG or a PNG.",
        field=field,
    )
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.I) or "javascript:" in text.lower():
        raise refused
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - DOCTYPE/ENTITY refused above
    except ElementTree.ParseError:
        raise ThemeRefused("The SVG file could not be read.", field=field) from None
    if root.tag.rsplit("}", 1)[-1] != "svg":
        raise ThemeRefused(f"The {label} must be a PNG or SVG image.", field=field)
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1].lower() in _SVG_FORBIDDEN_ELEMENTS:
            raise refused
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or (local == "href" and not value.startswith("#")):
                raise refused
            if "url(" in value and "url(#" not in value.replace(" ", ""):
                raise refused


def colour_report(*, primary_colour: str, accent_colour: str) -> list[ThemeRefused]:
    """What theme_update would say about these colours, without saving anything: the
    organiser's live preview shows it as they type."""
    problems = []
    for check, colour in ((_primary_check, primary_colour), (_accent_check, accent_colour)):
        try:
            check(colour)
        except ThemeRefused as refused:
            problems.append(refused)
    return problems


def _primary_check(colour: str) -> None:
    colour_check(
        field="primary_colour",
        colour=colour,
        label="The main colour",
        against=PAGE_BACKGROUNDS,
        role="against the page background",
    )


def _accent_check(colour: str) -> None:
    colour_check(
        field="accent_colour",
        colour=colour,
        label="The button colour",
        against=[WHITE],
        role="behind white button text",
    )


def footer_links_check(links: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(links) > 5:
        raise ThemeRefused("Add at most five footer links.", field="footer_links")
    cleaned = []
    for link in links:
        label, url = link.get("label", "").strip(), link.get("url", "").strip()
        if not label or len(label) > 40:
            raise ThemeRefused(
                "Each footer link needs a label of up to 40 characters.", field="footer_links"
            )
        if not _SAFE_URL.match(url) or len(url) > 300:
            raise ThemeRefused(
                f"“{url}” is not a web or email address (https://… or mailto:…).",
                field="footer_links",
            )
        cleaned.append({"label": label, "url": url})
    return cleaned


def theme_update(
    *,
    network: Network,
    actor: Member,
    primary_colour: str,
    accent_colour: str,
    welcome_headline: str = "",
    welcome_text: str = "",
    footer_links: list[dict[str, str]] | None = None,
    logo: UploadedFile[bytes] | None = None,
    remove_logo: bool = False,
    favicon: UploadedFile[bytes] | None = None,
    remove_favicon: bool = False,
    default_language: str | None = None,
) -> Theme:
    """Change a network's branding. Every check runs before anything is written; the
    change bumps the theme's version (and so its stylesheet URL) and is audit-logged in
    the network."""
    _primary_check(primary_colour)
    _accent_check(accent_colour)
    if len(welcome_headline) > 120 or len(welcome_text) > 2000:
        raise ThemeRefused("The welcome headline (120) or text (2,000 characters) is too long.")
    links = footer_links_check(footer_links or [])
    if default_language is not None and default_language not in dict(settings.LANGUAGES):
        raise ThemeRefused(_("Choose a language from the list."), field="default_language")
    logo_kind = logo_check(logo) if logo is not None else None
    favicon_kind = (
        logo_check(favicon, field="favicon", label="favicon", max_bytes=MAX_FAVICON_BYTES)
        if favicon is not None
        else None
    )

    with transaction.atomic(durable=True):
        theme, _created = Theme.objects.select_for_update().get_or_create(network=network)
        before = _summary(theme)
        theme.primary_colour, theme.accent_colour = primary_colour.lower(), accent_colour.lower()
        theme.welcome_headline, theme.welcome_text = welcome_headline, welcome_text
        theme.footer_links = links
        if default_language is not None:
            theme.default_language = default_language
        theme.version += 1
        with tenant_context(network):  # the file lands in the network's own media folder
            if remove_logo and theme.logo:
                theme.logo.delete(save=False)
            if logo is not None:
                theme.logo.save(
                    f"logo-{theme.version}.{logo_kind}", ContentFile(logo.read()), save=False
                )
            if remove_favicon and theme.favicon:
                theme.favicon.delete(save=False)
            if favicon is not None:
                theme.favicon.save(
                    f"favicon-{theme.version}.{favicon_kind}",
                    ContentFile(favicon.read()),
                    save=False,
                )
            theme.save()
            audit_record(
                actor=actor, verb="theme.update", target=theme, before=before, after=_summary(theme)
            )
    return theme


def _summary(theme: Theme) -> dict[str, Any]:
    return {
        "primary_colour": theme.primary_colour,
        "accent_colour": theme.accent_colour,
        "welcome_headline": theme.welcome_headline,
        "logo": theme.logo.name or "",
        "favicon": theme.favicon.name or "",
        "default_language": theme.default_language,
        "version": theme.version,
    }


class StatementRefused(ApplicationError):
    pass


STATEMENT_FIELDS = (
    "organisation",
    "contact_email",
    "contact_phone",
    "response_days",
    "compliance",
    "enforcer",
    "known_issues",
    "tested_by",
    "reviewed_on",
)


def accessibility_statement_update(
    *,
    network: Network,
    actor: Member,
    organisation: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    response_days: int = 5,
    compliance: str = Compliance.PARTIAL,
    enforcer: str = Enforcer.EHRC,
    known_issues: str = "",
    tested_by: str = "",
    reviewed_on: date | None = None,
) -> AccessibilityStatement:
    """Set what the network's accessibility statement says (organisers only: the view checks
    the permission). Every check runs before anything is written; audit-logged."""
    if compliance not in Compliance.values:
        raise StatementRefused(_("Choose how compliant the site is."), field="compliance")
    if enforcer not in Enforcer.values:
        raise StatementRefused(_("Choose where the network is."), field="enforcer")
    if not 1 <= response_days <= 60:
        raise StatementRefused(
            _("Say within how many days (1 to 60) you reply."), field="response_days"
        )
    if contact_email:
        try:
            validate_email(contact_email)
        except ValidationError:
            raise StatementRefused(
                _("“%(email)s” is not an email address.") % {"email": contact_email},
                field="contact_email",
            ) from None
    if reviewed_on is not None and reviewed_on > timezone.localdate():
        raise StatementRefused(_("The review date cannot be in the future."), field="reviewed_on")
    values = {
        "organisation": organisation.strip(),
        "contact_email": contact_email.strip(),
        "contact_phone": contact_phone.strip(),
        "response_days": response_days,
        "compliance": compliance,
        "enforcer": enforcer,
        "known_issues": known_issues.strip(),
        "tested_by": tested_by.strip(),
        "reviewed_on": reviewed_on,
    }
    with transaction.atomic(durable=True):
        statement, _created = AccessibilityStatement.objects.select_for_update().get_or_create(
            network=network
        )
        before = _statement_summary(statement)
        for name, value in values.items():
            setattr(statement, name, value)
        try:
            statement.full_clean(exclude=["network"], validate_unique=False)
        except ValidationError as invalid:
            field, errors = next(iter(invalid.message_dict.items()))
            raise StatementRefused(errors[0], field=field) from None
        statement.save()
        with tenant_context(network):
            audit_record(
                actor=actor,
                verb="accessibility_statement.update",
                target=statement,
                before=before,
                after=_statement_summary(statement),
            )
    return statement


def _statement_summary(statement: AccessibilityStatement) -> dict[str, Any]:
    summary = {name: getattr(statement, name) for name in STATEMENT_FIELDS}
    summary["reviewed_on"] = statement.reviewed_on.isoformat() if statement.reviewed_on else None
    return summary

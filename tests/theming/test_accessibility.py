"""The accessibility statement: served to anyone on each network and on the public site,
naming that network's contact, listing exactly what the automated axe report holds."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.audit.models import AuditEvent
from core.members.models import Role
from theming.models import AccessibilityStatement
from theming.selectors import AXE_REPORT, axe_report
from theming.services import StatementRefused, accessibility_statement_update

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from typing import Any

    from django.test import Client
    from pytest_django import Settings

    from core.members.models import Member
    from tenants.models import Network
    from tests.conftest import NetworkClient

ROW = re.compile(
    r'<tr class="axe-violation"><td>(.*?)</td><td>(.*?)</td><td><code>(.*?)</code></td>'
    r"<td>(.*?)</td></tr>"
)


def _rows(page: str) -> list[dict[str, str]]:
    return [
        {"page": html.unescape(p), "help": html.unescape(h), "rule": r, "impact": i}
        for p, h, r, i in ROW.findall(page)
    ]


@pytest.fixture
def organiser_a(network_a: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_a, email="olive@a.example", role=Role.ORGANISER)


@pytest.fixture
def organiser_b(network_b: Network, make_member: Callable[..., Member]) -> Member:
    return make_member(network_b, email="bob@b.example", role=Role.ORGANISER)


def test_anyone_signed_out_reads_the_statement_in_the_model_form(
    client_a: NetworkClient, organiser_a: Member
) -> None:
    response = client_a.get("/accessibility/")
    assert response.status_code == 200
    page = response.content.decode()
    for heading in (
        "Accessibility statement for Network A",
        "How accessible this website is",
        "Feedback and contact information",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Technical information about this website\u2019s accessibility",
        "Compliance status",
        "Non-accessible content",
        "Preparation of this accessibility statement",
    ):
        assert heading in page
    assert "partially compliant" in page and "2.2 AA" in page
    assert "Equality and Human Rights Commission" in page
    # No contact set: the organisers' own address.
    assert 'href="mailto:olive@a.example"' in page
    assert "automated testing finds only some" in page.lower()


def test_every_page_footer_links_to_it(
    client_a: NetworkClient,
    public_client: Client,
    make_member: Callable[..., Member],
    network_a: Network,
) -> None:
    client_a.force_login(make_member(network_a))
    for response in (client_a.get("/"), client_a.get("/listings/"), public_client.get("/")):
        assert '<a href="/accessibility/">Accessibility statement</a>' in response.content.decode()
    public = public_client.get("/accessibility/")
    assert public.status_code == 200
    assert "Accessibility statement for Hexitime" in public.content.decode()


def test_the_page_lists_exactly_what_the_committed_report_holds(client_a: NetworkClient) -> None:
    held = json.loads(AXE_REPORT.read_text())
    page = client_a.get("/accessibility/").content.decode()
    listed = _rows(page)
    expected = sorted(
        ({k: v[k] for k in ("page", "help", "rule", "impact")} for v in held["violations"]),
        key=lambda v: (v["page"], v["rule"]),
    )
    assert listed == expected
    if not held["violations"] and held["tested_on"]:
        tested = date.fromisoformat(held["tested_on"])
        assert f"No known failures found by automated testing on {tested:%-d %B %Y}" in page


def test_a_report_with_failures_is_listed_row_by_row_and_an_empty_one_says_so(
    client_a: NetworkClient, settings: Settings, tmp_path: Path
) -> None:
    report = tmp_path / "axe.json"
    violations = [
        {
            "rule": "region",
            "impact": "moderate",
            "help": "All content should be in landmarks",
            "page": "/listings/<id>/",
        },
        {
            "rule": "color-contrast",
            "impact": "serious",
            "help": "Elements must meet minimum colour contrast",
            "page": "/",
        },
    ]
    report.write_text(json.dumps({"tested_on": "2026-11-30", "violations": violations}))
    settings.HEXITIME_AXE_REPORT_PATH = str(report)
    page = client_a.get("/accessibility/").content.decode()
    assert _rows(page) == [violations[1], violations[0]]  # by page, then rule
    assert "Failures axe-core found on 30 November 2026" in page
    assert "No known failures" not in page

    report.write_text(json.dumps({"tested_on": "2026-11-30", "violations": []}))
    page = client_a.get("/accessibility/").content.decode()
    assert _rows(page) == []
    assert "No known failures found by automated testing on 30 November 2026." in page
    assert axe_report().tested_on == date(2026, 11, 30)


def test_the_organiser_sets_the_contact_and_status_audited(
    client_a: NetworkClient, network_a: Network, organiser_a: Member
) -> None:
    client_a.force_login(organiser_a)
    response = client_a.post(
        "/settings/accessibility/",
        {
            "organisation": "Oxford Health NHS FT",
            "contact_email": "access@oxford.example",
            "contact_phone": "01865 000000",
            "response_days": "10",
            "compliance": "full",
            "enforcer": "ecni",
            "known_issues": "Old PDF minutes are not tagged\n",
            "tested_by": "",
            "reviewed_on": "2026-11-01",
        },
    )
    assert response.status_code == 302
    client_a.logout()
    page = client_a.get("/accessibility/").content.decode()
    assert 'href="mailto:access@oxford.example"' in page
    assert "mailto:olive@a.example" not in page
    assert "01865 000000" in page and "within 10 days" in page
    assert "This website is fully compliant" in page
    assert "Equality Commission for Northern Ireland" in page
    assert "Equality and Human Rights Commission" not in page
    assert "<li>Old PDF minutes are not tagged</li>" in page
    assert "last reviewed on 1 November 2026" in page
    assert "This website is run by Oxford Health NHS FT" in page
    with tenant_context(network_a):
        event = AuditEvent.objects.get(verb="accessibility_statement.update")
    assert event.before is not None and event.after is not None
    assert event.after["contact_email"] == "access@oxford.example"
    assert event.before["contact_email"] == ""


def test_bad_input_is_refused_clearly_and_nothing_written(
    client_a: NetworkClient, network_a: Network, organiser_a: Member
) -> None:
    client_a.force_login(organiser_a)
    response = client_a.post(
        "/settings/accessibility/",
        {
            "contact_email": "not-an-address",
            "response_days": "0",
            "compliance": "maybe",
            "enforcer": "ehrc",
            "reviewed_on": "2999-01-01",
        },
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    with pytest.raises(StatementRefused, match="future"):
        accessibility_statement_update(
            network=network_a, actor=organiser_a, reviewed_on=date(2999, 1, 1)
        )
    assert not AccessibilityStatement.objects.filter(network=network_a).exists()


def test_members_cannot_change_it(
    client_a: NetworkClient, network_a: Network, make_member: Callable[..., Member]
) -> None:
    client_a.force_login(make_member(network_a))
    assert client_a.get("/settings/accessibility/").status_code == 403
    assert client_a.post("/settings/accessibility/", {"compliance": "full"}).status_code == 403


def test_network_b_contact_never_on_network_a_page(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    organiser_a: Member,
    organiser_b: Member,
) -> None:
    accessibility_statement_update(
        network=network_b,
        actor=organiser_b,
        contact_email="secret@b.example",
        contact_phone="028 9000 0000",
    )
    page_a = client_a.get("/accessibility/").content.decode()
    page_b = client_b.get("/accessibility/").content.decode()
    assert "secret@b.example" in page_b and "028 9000 0000" in page_b
    assert "secret@b.example" not in page_a and "028 9000 0000" not in page_a
    assert "bob@b.example" not in page_a
    assert "mailto:olive@a.example" in page_a
    # B's organiser cannot change A's statement: their sign-in is B's alone.
    client_a.force_login(organiser_b)
    assert client_a.get("/settings/accessibility/").status_code != 200


API = "/api/v1/accessibility/"
FULL = {
    "organisation": "Oxford Health NHS FT",
    "contact_email": "access@oxford.example",
    "contact_phone": "01865 000000",
    "response_days": 10,
    "compliance": "full",
    "enforcer": "ecni",
    "known_issues": "Old PDF minutes are not tagged\n\nMaps lack text\n",
    "tested_by": "",
    "reviewed_on": "2026-11-01",
}


def test_the_api_answers_anyone_what_the_page_shows(
    client_a: NetworkClient, organiser_a: Member, settings: Settings, tmp_path: Path
) -> None:
    report = tmp_path / "axe.json"
    violation = {
        "rule": "region",
        "impact": "moderate",
        "page": "/listings/<id>/",
        "help": "All content should be in landmarks",
    }
    report.write_text(json.dumps({"tested_on": "2026-11-30", "violations": [violation]}))
    settings.HEXITIME_AXE_REPORT_PATH = str(report)
    shown = client_a.get(API)  # signed out
    assert shown.status_code == 200, shown.content
    body = shown.json()
    assert body["emails"] == ["olive@a.example"]  # no address set: the organisers'
    assert body["compliance"] == "partial" and body["response_days"] == 5
    assert body["known_issues"] == [] and body["reviewed_on"] is None
    assert body["automated_checks"] == {"tested_on": "2026-11-30", "violations": [violation]}
    page = client_a.get("/accessibility/").content.decode()
    assert _rows(page) == body["automated_checks"]["violations"]


def test_organisers_put_it_audited_and_members_cannot(
    client_a: NetworkClient,
    network_a: Network,
    organiser_a: Member,
    make_member: Callable[..., Member],
) -> None:
    client_a.force_login(make_member(network_a))
    assert client_a.put(API, FULL, content_type="application/json").status_code == 403
    client_a.logout()
    assert client_a.put(API, FULL, content_type="application/json").status_code in (401, 403)
    assert not AccessibilityStatement.objects.filter(network=network_a).exists()
    client_a.force_login(organiser_a)
    saved = client_a.put(API, FULL, content_type="application/json")
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["emails"] == ["access@oxford.example"] and body["enforcer"] == "ecni"
    assert body["known_issues"] == ["Old PDF minutes are not tagged", "Maps lack text"]
    assert body["reviewed_on"] == "2026-11-01" and body["organisation"] == FULL["organisation"]
    client_a.logout()
    assert client_a.get(API).json() == body
    page = client_a.get("/accessibility/").content.decode()
    assert "<li>Maps lack text</li>" in page and "within 10 days" in page
    with tenant_context(network_a):
        assert AuditEvent.objects.filter(verb="accessibility_statement.update").count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"response_days": 0}, "response_days"),
        ({"compliance": "maybe"}, "compliance"),
        ({"reviewed_on": "2999-01-01"}, None),
    ],
)
def test_bad_input_to_the_api_is_refused_and_nothing_written(
    client_a: NetworkClient,
    network_a: Network,
    organiser_a: Member,
    change: dict[str, Any],
    field: str | None,
) -> None:
    client_a.force_login(organiser_a)
    refused = client_a.put(API, {**FULL, **change}, content_type="application/json")
    assert refused.status_code == 400, refused.content
    if field:
        assert field in refused.json()["errors"]
    else:
        assert refused.json() == {
            "detail": "The review date cannot be in the future.",
            "field": "reviewed_on",
        }
    assert not AccessibilityStatement.objects.filter(network=network_a).exists()


def test_network_b_organiser_cannot_put_network_a_statement(
    client_a: NetworkClient,
    client_b: NetworkClient,
    network_a: Network,
    network_b: Network,
    organiser_a: Member,
    organiser_b: Member,
) -> None:
    client_b.force_login(organiser_b)
    assert client_b.put(API, FULL, content_type="application/json").status_code == 200
    assert client_a.get(API).json()["emails"] == ["olive@a.example"]
    client_a.force_login(organiser_b)  # B's sign-in does not carry to A
    assert client_a.put(API, FULL, content_type="application/json").status_code in (401, 403)
    assert not AccessibilityStatement.objects.filter(network=network_a).exists()
    assert (
        AccessibilityStatement.objects.get(network=network_b).contact_email == FULL["contact_email"]
    )

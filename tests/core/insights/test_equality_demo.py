"""The demonstration networks come with equality answers, so the reports have figures."""

from __future__ import annotations

from django_tenants.utils import tenant_context

from core.insights.models import EqualityAnswers
from core.insights.selectors.equality import equality_report, rounded
from core.insights.selectors.platform import platform_insights
from core.members.models import Member, Role
from hexitime.demo import STAFF_EMAIL, demo_load


def test_the_demo_networks_have_equality_answers_to_report(db: None) -> None:
    networks = demo_load(members_per_network=20)
    total = 0
    for network in networks:
        with tenant_context(network):
            members = Member.objects.filter(state="active").count()
            assert members * 0.5 <= EqualityAnswers.objects.count() < members
            organiser = Member.objects.filter(role=Role.ORGANISER).first()
            assert organiser is not None
            everyone = equality_report(actor=organiser).tables[0].rows[0]
            assert everyone.members == rounded(members, 5)
            total += members
    staff = Member.objects.get(email=STAFF_EMAIL)
    gender = platform_insights(actor=staff).equality[1]
    assert gender.rows[0].members == rounded(total, 5)
    assert any(row.members and row.members >= 8 for row in gender.rows[1:])

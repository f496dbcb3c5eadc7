"""The organisers' equality report: figures from the ledger, suppression, who may see it,
network isolation, withdrawal, and a property test over random memberships."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.audit.models import AuditEvent
from core.insights.models import EqualityAnswers, EqualitySnapshot
from core.insights.selectors.equality import (
    ALL,
    CHARACTERISTICS,
    QUESTIONS,
    GroupFigures,
    ReportRow,
    ReportTable,
    equality_figures,
    equality_report,
    equality_tables,
)
from core.insights.services.equality import (
    equality_answers_save,
    equality_answers_withdraw,
    equality_snapshot_take,
)
from core.insights.suppression import Cell, Sum
from core.members.models import MemberState, Role
from kernel.errors import PermissionDenied
from ledger.federation.services import federated_transfer_create, federation_membership_set
from ledger.models import Transfer
from ledger.services import (
    Leg,
    gift_grant,
    issuance_account,
    member_account,
    project_account,
    transfer_create,
)
from tests.conftest import NetworkClient, upgrade
from tests.core.insights.recovery import assert_no_small_union, recoverable

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_django import DjangoAssertNumQueries

    from core.members.models import Member
    from tenants.models import Network

WOMAN = {
    "ethnic_group": "asian_indian",
    "gender": "woman",
    "age_band": "25_34",
    "disability": "no",
    "background": "professional",
}
MAN = {**WOMAN, "ethnic_group": "white_british", "gender": "man"}


def _answer(network: Network, member: Member, **answers: Any) -> None:
    with tenant_context(network):
        equality_answers_save(actor=member, consent=True, **answers)


def _exchange(key: str, giver: Member, receiver: Member, minutes: int) -> Transfer:
    return transfer_create(
        idempotency_key=key,
        kind=Transfer.Kind.EXCHANGE,
        legs=[Leg(member_account(receiver), -minutes), Leg(member_account(giver), minutes)],
    )


def test_figures_come_from_the_ledger_and_stay_in_their_network(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    ann, bea, cal, dan = (make_member(network_a, full_name=n) for n in ("Ann", "Bea", "Cal", "Dan"))
    eve = make_member(network_a, state=MemberState.AWAITING_APPROVAL)  # not yet a member
    ben = make_member(network_b)
    _answer(network_a, ann, **WOMAN)
    _answer(network_a, bea, **{**WOMAN, "disability": "yes"})
    _answer(network_a, cal, **MAN)
    _answer(network_a, eve, **WOMAN)
    _answer(network_b, ben, **MAN)
    with tenant_context(network_a):
        for member in (ann, bea, cal, dan):
            gift_grant(member=member)  # gifts are not activity
        _exchange("x1", ann, cal, 60)
        undone = _exchange("x2", bea, dan, 90)
        transfer_create(
            idempotency_key="x2:reversal",
            kind=Transfer.Kind.REVERSAL,
            reverses=undone,
            legs=[Leg(member_account(bea), -90), Leg(member_account(dan), 90)],
        )
        project = project_account(7)
        transfer_create(
            idempotency_key="fund",
            kind=Transfer.Kind.PROJECT_FUND,
            legs=[Leg(issuance_account(), -300), Leg(project, 300)],
        )
        transfer_create(
            idempotency_key="volunteer",
            kind=Transfer.Kind.PROJECT_CREDIT,
            legs=[Leg(project, -120), Leg(member_account(bea), 120)],
        )
    upgrade(network_a, network_b)  # federation comes with the paid plan
    for network in (network_a, network_b):
        federation_membership_set(network=network, actor=None, opted_in=True, open_to_all=True)
    federated_transfer_create(
        idempotency_key="fed",
        payer_network=network_a,
        payer_member_id=ann.pk,
        payee_network=network_b,
        payee_member_id=ben.pk,
        minutes=30,
    )

    year_ago = timezone.now() - timedelta(days=365)
    figures = equality_figures([network_a.schema_name, network_b.schema_name], since=year_ago)
    a, b = figures[network_a.schema_name], figures[network_b.schema_name]
    # members, active, givers, minutes given, receivers, minutes received
    assert a[ALL] == GroupFigures(4, 3, 2, 180, 2, 90)
    assert a["gender", "woman"] == GroupFigures(2, 2, 2, 180, 1, 30)
    assert a["gender", "man"] == GroupFigures(1, 1, 0, 0, 1, 60)
    assert a["gender", ""] == GroupFigures(1, 0, 0, 0, 0, 0)  # Dan: not answered, undone
    assert a["disability", "yes"] == GroupFigures(1, 1, 1, 120, 0, 0)  # Bea: the project
    assert b == {
        ALL: GroupFigures(1, 1, 1, 30, 0, 0),
        **{(q, MAN[q]): GroupFigures(1, 1, 1, 30, 0, 0) for q in QUESTIONS},
    }
    assert sum(f.members for (q, _), f in a.items() if q == "gender") == 4

    tomorrow = timezone.now() + timedelta(days=1)
    later = equality_figures([network_a.schema_name], since=tomorrow)[network_a.schema_name]
    assert later[ALL] == GroupFigures(4, 0, 0, 0, 0, 0)  # members stay; the activity is old


@pytest.fixture
def nineteen(network_a: Network, make_member: Callable[..., Member]) -> list[Member]:
    """An organiser and 18 members of network A: 10 women (the organiser among them) and
    9 men, none yet active."""
    boss = make_member(network_a, role=Role.ORGANISER)
    members = [boss] + [make_member(network_a) for _ in range(18)]
    for n, member in enumerate(members):
        _answer(network_a, member, **(WOMAN if n < 10 else MAN))
    return members


def _row(table: ReportTable, label: str) -> ReportRow:
    return next(row for row in table.rows if row.label == label)


def test_organisers_see_the_report_with_small_numbers_hidden(
    network_a: Network,
    nineteen: list[Member],
    client_a: NetworkClient,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    boss, *members = nineteen
    with tenant_context(network_a):
        equality_snapshot_take()  # as beat does on the 1st of the month
    client_a.force_login(boss)
    with django_assert_max_num_queries(10):  # sign-in, permissions, theme; one for the report
        page = client_a.get("/insights/equality/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<caption id="ethnic_group-caption">Ethnic group</caption>' in html
    assert '<th scope="col" class="num">Hours received</th>' in html
    assert '<th scope="row"><span class="visually-hidden">White: </span>' in html
    gender = page.context["report"].tables[1]
    # 10 women and 9 men, 19 in all: counts are rounded to the nearest 5.
    assert (_row(gender, "Woman").members, _row(gender, "Man").members) == (10, 10)
    assert _row(gender, "All members").members == 20

    # One man gives an hour to one woman: a single giver and a single receiver. The
    # report shows it from next month's snapshot.
    with tenant_context(network_a):
        gift_grant(member=members[0])
        _exchange("x", members[-1], members[0], 60)
        assert equality_report(actor=boss).tables[1] == gender  # this month's, unchanged
        report = equality_report(actor=boss, now=timezone.now() + timedelta(days=31))
    gender = report.tables[1]
    woman, man = _row(gender, "Woman"), _row(gender, "Man")
    assert (woman.members, man.members) == (10, 10)
    # One active member in each group, one giver, one receiver: all hidden.
    assert woman.active is None and man.active is None
    assert woman.received is None and man.given is None
    # Zeros are hidden like small counts (else `*` turning 0 would say who left a group).
    assert woman.given is None and man.received is None
    assert _row(gender, "Non-binary").given is None
    # 2 active in all: known to the organiser from elsewhere, but still shown as *.
    assert _row(gender, "All members").active is None


def test_withdrawing_takes_a_member_out_of_the_report(
    network_a: Network, nineteen: list[Member], client_a: NetworkClient
) -> None:
    boss, *members = nineteen
    with tenant_context(network_a):
        assert equality_answers_withdraw(actor=members[0])
        gender = equality_report(actor=boss).tables[1]
    # 9 women, 9 men and 1 "not answered": the 1 is hidden, and so is a second cell so
    # that it cannot be worked out from the total of 19.
    assert _row(gender, "Not answered").members is None
    assert _row(gender, "Woman").members is None
    assert _row(gender, "Man").members == 10  # 9, to the nearest 5
    assert _row(gender, "All members").members == 20


def test_the_csv_download_matches_the_page_and_is_audited(
    network_a: Network, nineteen: list[Member], client_a: NetworkClient
) -> None:
    boss, *members = nineteen
    with tenant_context(network_a):
        equality_answers_withdraw(actor=members[0])
    client_a.force_login(boss)
    response = client_a.get("/insights/equality/download/")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "characteristic",
        "group",
        "within",
        "members",
        "active members",
        "hours given",
        "hours received",
    ]
    assert ["Gender", "Not answered", "", "*", "*", "*", "*"] in rows
    assert ["Gender", "Man", "", "10", "*", "*", "*"] in rows  # 9 men; zeros hidden
    asian = next(
        row
        for row in rows
        if row[:3] == ["Ethnic group", "Asian, Asian British or Asian Welsh", ""]
    )
    # 9 women, all Indian, and 9 White British men: shown, the two sections would leave
    # 1 = 19 - 9 - 9 member among the hidden groups, so one section is hidden too.
    assert asian[3] == "*"
    for row in rows[1:]:
        assert all(cell == "*" or (int(cell) % 5 == 0 and int(cell) >= 10) for cell in row[3:5])
    with tenant_context(network_a):
        event = AuditEvent.objects.get()
    assert (event.verb, event.actor_id) == ("insights.equality_export", boss.pk)


def test_the_report_api_gives_organisers_suppressed_counts(
    network_a: Network, nineteen: list[Member], client_a: NetworkClient
) -> None:
    boss, *members = nineteen
    with tenant_context(network_a):
        equality_answers_withdraw(actor=members[0])
    client_a.force_login(boss)
    body = client_a.get("/api/v1/insights/equality/report/").json()
    gender = next(t for t in body["tables"] if t["key"] == "gender")
    rows = {row["group"]: row for row in gender["rows"]}
    assert rows["Not answered"]["members"] is None
    assert rows["Man"] == {
        "group": "Man",
        "level": 0,
        "section": "Man",
        "members": 10,
        "active": None,
        "hours_given": None,
        "hours_received": None,
    }


@pytest.mark.parametrize("role", [Role.MEMBER, Role.QI_LEAD])
def test_members_without_the_organiser_role_are_refused(
    network_a: Network,
    nineteen: list[Member],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    role: Role,
) -> None:
    someone = make_member(network_a, role=role)
    client_a.force_login(someone)
    for path in (
        "/insights/equality/",
        "/insights/equality/download/",
        "/api/v1/insights/equality/report/",
    ):
        assert client_a.get(path).status_code == 403, path
    with tenant_context(network_a), pytest.raises(PermissionDenied):
        equality_report(actor=someone)
    home = client_a.get("/").content.decode()
    assert "Equality report" not in home
    with tenant_context(network_a):
        assert not AuditEvent.objects.exists()


def test_an_organiser_who_is_not_active_is_refused(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    boss = make_member(network_a, role=Role.ORGANISER, state=MemberState.UNVERIFIED)
    client_a.force_login(boss)
    assert client_a.get("/insights/equality/").status_code == 403


def test_another_networks_members_never_appear(
    network_a: Network,
    network_b: Network,
    nineteen: list[Member],
    make_member: Callable[..., Member],
    client_a: NetworkClient,
    client_b: NetworkClient,
) -> None:
    boss_b = make_member(network_b, role=Role.ORGANISER)
    for member in [boss_b] + [make_member(network_b) for _ in range(8)]:
        _answer(network_b, member, **{**MAN, "ethnic_group": "white_roma"})
    client_a.force_login(nineteen[0])
    ethnic = client_a.get("/insights/equality/").context["report"].tables[0]
    assert _row(ethnic, "Roma").members is None  # none: hidden like a small count
    assert _row(ethnic, "All members").members == 20
    client_b.force_login(boss_b)
    ethnic_b = client_b.get("/insights/equality/").context["report"].tables[0]
    assert _row(ethnic_b, "Roma").members == 10
    assert _row(ethnic_b, "Indian").members is None
    assert client_b.get("/api/v1/insights/equality/report/").json()["tables"][0]["rows"][0] == {
        "group": "All members",
        "level": -1,
        "section": "",
        "members": 10,
        "active": None,
        "hours_given": None,
        "hours_received": None,
    }
    # A's organiser has no standing in B: their session does not cross networks.
    intruder = NetworkClient(network_b)
    intruder.cookies = client_a.cookies
    assert intruder.get("/insights/equality/").status_code == 403


# --- Property: random memberships -------------------------------------------------------

SOME = {q: [*list(c.values)[:2], "prefer_not_to_say"] for q, c in QUESTIONS.items()}


@st.composite
def memberships(draw: st.DrawFn) -> dict[tuple[str, str], GroupFigures]:
    """Raw figures for a random network, built member by member as the query counts."""
    figures: dict[tuple[str, str], GroupFigures] = defaultdict(GroupFigures)
    for _ in range(draw(st.integers(0, 60))):
        answered = draw(st.booleans()) or draw(st.booleans())
        answers = {q: draw(st.sampled_from(SOME[q])) if answered else "" for q in QUESTIONS}
        active = draw(st.booleans())
        given = draw(st.sampled_from([0, 30, 60, 150])) if active else 0
        received = draw(st.sampled_from([0, 60, 90])) if active else 0
        one = GroupFigures(1, int(active), int(given > 0), given, int(received > 0), received)
        figures[ALL] += one
        for question, answer in answers.items():
            figures[question, answer] += one
    return figures


def _raw(table_key: str, figures: dict[tuple[str, str], GroupFigures]) -> dict[str, GroupFigures]:
    """Each row's raw figures, computed here from the groups' answers."""
    characteristic = next(c for c in CHARACTERISTICS if c.key == table_key)
    rows = {"All members": figures.get(ALL, GroupFigures())}
    for group in characteristic.groups:
        for g in (group, *group.children):
            total = GroupFigures()
            for answer in g.answers:
                total += figures.get((table_key, answer), GroupFigures())
            rows[g.label] = total
    return rows


def _small(n: int) -> bool:
    return 1 <= n <= 7


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(memberships())
def test_no_published_figure_is_about_0_to_7_people_and_none_hidden_is_recoverable(
    figures: dict[tuple[str, str], GroupFigures],
) -> None:
    for table in equality_tables(figures):
        raw = _raw(table.key, figures)
        # Each figure, as this test sees it: its value, the people it is about (a group of
        # 1-7 members is about all of them), published or not, known or not.
        cells: dict[Any, Cell] = {}
        hidden = set()
        for n, row in enumerate(table.rows):
            r = raw[row.label]
            whole = _small(r.members)
            people = {
                "members": r.members,
                "active": r.active,
                "given": r.givers,
                "received": r.receivers,
            }
            for measure, value in (
                ("members", r.members),
                ("active", r.active),
                ("given", r.given),
                ("received", r.received),
            ):
                about = r.members if whole else people[measure]
                cells[n, measure] = Cell(value, about, known=row.is_total)
                shown = getattr(row, measure)
                if shown is None:
                    hidden.add((n, measure))
                else:  # published: never about 0-7 people, and rounded
                    assert not (_small(about) or about == 0), (table.key, row, measure)
                    step = 5 if measure in ("members", "active") else 5 * 60
                    assert shown % step == 0 and abs(shown - value) <= step // 2
            inactive = r.members - r.active
            cells[n, "inactive"] = Cell(inactive, 0 if row.is_total else inactive, shown=False)
        # The sums an attacker knows: the total row over the groups, each group over its
        # sub-groups, and members = active + inactive in every row.
        sums: list[Sum[Any]] = []
        top = [n for n, row in enumerate(table.rows) if row.level == 0]
        for measure in ("members", "active", "given", "received", "inactive"):
            sums.append(Sum((0, measure), tuple((n, measure) for n in top)))
            for n in top:
                section = table.rows[n].label
                children = tuple(
                    (m, measure)
                    for m, row in enumerate(table.rows)
                    if row.level == 1 and row.section == section
                )
                if children:
                    sums.append(Sum((n, measure), children))
        sums += [
            Sum((n, "members"), ((n, "active"), (n, "inactive"))) for n in range(len(table.rows))
        ]
        unknowns = [k for k, c in cells.items() if (k in hidden and not c.known) or not c.shown]
        protected = {k for k in unknowns if k in hidden or _small(cells[k].people)}
        exposed = recoverable(unknowns, [(s.total, s.parts) for s in sums]) & protected
        assert not exposed, (table.key, exposed)
        assert_no_small_union(cells, sums, hidden)


# --- Property: reports around one member's change cannot be differenced ------------------

answer_sets = st.one_of(
    st.none(), st.fixed_dictionaries({q: st.sampled_from(SOME[q]) for q in QUESTIONS})
)


@pytest.fixture
def pool(network_a: Network, make_member: Callable[..., Member]) -> list[Member]:
    """An organiser and 15 members of network A, the same for every example."""
    return [make_member(network_a, role=Role.ORGANISER)] + [
        make_member(network_a) for _ in range(15)
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    answers=st.lists(answer_sets, min_size=16, max_size=16),
    who=st.integers(0, 15),
    change=answer_sets,  # their new answers; None: they withdraw
    days_later=st.integers(0, 27),
)
def test_reports_around_one_members_change_cannot_be_differenced(
    network_a: Network,
    pool: list[Member],
    answers: list[dict[str, str] | None],
    who: int,
    change: dict[str, str] | None,
    days_later: int,
) -> None:
    boss = pool[0]
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    with tenant_context(network_a):
        EqualitySnapshot.objects.all().delete()  # each example starts a month afresh
        EqualityAnswers.objects.all().delete()
        for member, given in zip(pool, answers, strict=True):
            if given is not None:
                equality_answers_save(actor=member, consent=True, **given)
        before = equality_report(actor=boss, now=month_start + timedelta(hours=1))
        if change is None:
            equality_answers_withdraw(actor=pool[who])
        else:
            equality_answers_save(actor=pool[who], consent=True, **change)
        after = equality_report(actor=boss, now=month_start + timedelta(days=days_later, hours=2))
        # Every report of the month is the same report: comparing them reveals nothing.
        assert after.tables == before.tables
        assert after.until == before.until
        # Next month's report has the change, among everyone else's changes of the month.
        later = equality_report(actor=boss, now=month_start + timedelta(days=40))
        current = equality_figures([network_a.schema_name], since=later.since)
        assert later.tables == equality_tables(current[network_a.schema_name])
        assert EqualitySnapshot.objects.count() == 1  # the past month's is gone

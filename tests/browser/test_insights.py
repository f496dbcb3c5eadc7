"""The network map, metrics and impact pages in Chromium: drawn, hoverable, accessible."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django_tenants.utils import tenant_context

from core.insights.services.metrics import network_metrics_store
from core.members.models import Role
from ledger.services import gift_grant
from tests.browser.conftest import axe_scan, screenshot, url
from tests.core.insights.conftest import complete

if TYPE_CHECKING:
    from collections.abc import Callable

    from playwright.sync_api import Page
    from pytest_django.live_server_helper import LiveServer

    from core.members.models import Member
    from tenants.models import Network

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "a-long-test-passphrase"
HOST = "maple.localhost"


@pytest.fixture
def maple(make_network: Callable[..., Network], make_member: Callable[..., Member]) -> Network:
    """Maple: Olive (organiser, Oxford) helped Ada and Ben; Ben helped Cy, who is off the
    map."""
    network = make_network("maple", "Maple Network")
    olive = make_member(
        network,
        email="olive@nhs.net",
        full_name="Olive Organiser",
        password=PASSWORD,
        role=Role.ORGANISER,
        profession="nurse",
        organisation="Oxford",
    )
    ada = make_member(network, full_name="Ada Doctor", profession="doctor", organisation="Oxford")
    ben = make_member(
        network, full_name="Ben Pharmacist", profession="pharmacist", organisation="Reading"
    )
    cy = make_member(network, full_name="Cy Hidden", show_on_map=False)
    with tenant_context(network):
        for member in (olive, ada, ben, cy):
            gift_grant(member=member)
        complete(olive, ada, minutes=60)
        complete(olive, ben, minutes=90, category="teaching", format="in_person")
        complete(ben, cy, minutes=30)
        network_metrics_store(network.schema_name)
    return network


def _sign_in(page: Page, live_server: LiveServer) -> None:
    page.goto(url(live_server, HOST, "/accounts/login/"))
    page.get_by_label("Email address").fill("olive@nhs.net")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url(live_server, HOST, "/"))


def _map_in_view(page: Page) -> None:
    """Scroll the map into view, then wait two frames: cytoscape measures the pointer
    against a cached position of the map, which it refreshes on the page's scroll event,
    and a mouse event sent before that event lands on the wrong spot."""
    page.locator("#network-map").scroll_into_view_if_needed()
    page.evaluate(
        "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )


def test_the_map_draws_the_members_and_names_them_on_hover(
    live_server: LiveServer, page: Page, maple: Network
) -> None:
    _sign_in(page, live_server)
    page.get_by_role("link", name="Network map").first.click()
    page.wait_for_selector("#network-map[data-nodes]")
    assert page.get_attribute("#network-map", "data-nodes") == "4"
    assert page.locator("#network-map canvas").count() >= 1
    labels = page.evaluate("hexitimeMap.nodes().map(n => n.data('label')).sort()")
    assert labels == ["A member", "Ada Doctor", "Ben Pharmacist", "Olive Organiser"]
    # Each node is labelled on the map itself, not only on hover.
    drawn = page.evaluate("hexitimeMap.nodes().map(n => n.style('label')).sort()")
    assert drawn == labels
    assert page.evaluate("hexitimeMap.edges().length") == 3
    # Hover over Ada: the tooltip names her and her hours. The drawn layout is random and
    # may put a node over hers; a grid (cytoscape's own layout) leaves her uncovered.
    page.evaluate("hexitimeMap.layout({name: 'grid', animate: false}).run()")
    _map_in_view(page)
    box = page.locator("#network-map").bounding_box()
    assert box is not None
    at = page.evaluate(
        "(() => { const p = hexitimeMap.nodes().filter(n => n.data('label') === 'Ada Doctor')"
        "[0].renderedPosition(); return [p.x, p.y]; })()"
    )
    page.mouse.move(box["x"] + at[0], box["y"] + at[1])
    tooltip = page.locator(".map-tooltip")
    tooltip.wait_for(state="visible")
    assert "Ada Doctor" in tooltip.inner_text() and "received 1 h" in tooltip.inner_text()
    legend = page.locator(".map-legend").inner_text()
    assert "Doctor" in legend and "Oxford" not in legend
    page.get_by_label("Organisation").check()
    assert "Oxford" in page.locator(".map-legend").inner_text()
    screenshot(page, "insights-map")
    # Zoom and pan are cytoscape's own: the wheel changes the zoom.
    before = page.evaluate("hexitimeMap.zoom()")
    _map_in_view(page)
    box = page.locator("#network-map").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"hexitimeMap.zoom() !== {before}")


def test_insights_pages_draw_their_charts_without_serious_accessibility_violations(
    live_server: LiveServer, page: Page, maple: Network
) -> None:
    _sign_in(page, live_server)
    found = {}
    for name, path in {
        "map": "/insights/map/",
        "impact": "/insights/impact/",
        "metrics": "/insights/metrics/",
    }.items():
        page.goto(url(live_server, HOST, path))
        if name == "map":
            page.wait_for_selector("#network-map[data-nodes]")
        if name == "impact":
            page.wait_for_selector("canvas[data-drawn]")
            assert page.locator("canvas[data-drawn]").count() == 5
            # Axes that count members or exchanges tick in whole numbers only.
            ticks = page.eval_on_selector_all(
                "canvas[data-drawn]:not(#hours-chart)",
                "cs => cs.map(c => Object.values(Chart.getChart(c).scales)"
                ".filter(s => s.axis === (Chart.getChart(c).options.indexAxis === 'y' ? 'x' : 'y'))"
                ".flatMap(s => s.ticks.map(t => t.value)))",
            )
            assert ticks and all(v == int(v) for chart in ticks for v in chart), ticks
        screenshot(page, f"insights-{name}")
        found[name] = axe_scan(page)
    assert "Olive Organiser" in page.locator(".brokers").inner_text()
    serious = {
        name: [
            (v["id"], v["help"])
            for v in result["violations"]
            if v["impact"] in {"serious", "critical"}
        ]
        for name, result in found.items()
    }
    assert serious == {name: [] for name in found}


def test_volunteering_is_drawn_and_labelled_apart_from_exchanges(
    live_server: LiveServer, page: Page, maple: Network
) -> None:
    """Olive leads a project Ada volunteered for: the map draws the project as a square
    joined to Ada by a dashed line, and Olive's exchanges do not grow."""
    import datetime

    from django.utils import timezone

    from core.members.models import Member
    from core.projects.services import (
        project_fund,
        project_propose,
        volunteer_confirm_hours,
        volunteer_pledge,
    )

    today = timezone.localdate()
    with tenant_context(maple):
        olive = Member.objects.get(email="olive@nhs.net")
        ada = Member.objects.get(full_name="Ada Doctor")
        project = project_fund(
            actor=olive,
            project=project_propose(
                actor=olive,
                title="Falls",
                aim="Fewer falls",
                description="Ward 7",
                budget_minutes=600,
                starts_on=today - datetime.timedelta(days=7),
                ends_on=today,
                skills_wanted=[],
            ),
        )
        volunteer = volunteer_pledge(actor=ada, project=project, pledged_minutes=120)
        volunteer_confirm_hours(
            actor=olive,
            project=project,
            volunteer=volunteer,
            minutes=45,
            worked_on=today,
            key="ada",
        )
        network_metrics_store(maple.schema_name)  # as the worker does once hours are confirmed
    _sign_in(page, live_server)
    page.goto(url(live_server, HOST, "/insights/map/"))
    page.wait_for_selector("#network-map[data-nodes]")
    assert page.get_attribute("#network-map", "data-nodes") == "5"
    square = "hexitimeMap.nodes().filter(n => n.data('kind') === 'project')[0]"
    assert page.evaluate(f"{square}.data('label')") == "Project: Falls"
    assert page.evaluate(f"{square}.style('shape')") == "round-rectangle"
    assert page.evaluate(f"{square}.connectedEdges()[0].style('line-style')") == "dashed"
    page.evaluate(f"{square}.emit('tap')")
    assert (
        page.locator(".map-tooltip")
        .inner_text()
        .endswith("Volunteers gave 45 min (1 confirmation).")
    )
    page.evaluate(
        "hexitimeMap.nodes().filter(n => n.data('label') === 'Olive Organiser')[0].emit('tap')"
    )
    assert "in 2 exchanges." in page.locator(".map-tooltip").inner_text()
    people = page.locator("section[aria-labelledby=people-heading] tbody tr")
    olive_row = people.filter(has_text="Olive Organiser").locator("td").all_inner_texts()
    assert olive_row[-2:] == ["2", "0"]  # exchanges, volunteering
    links = page.locator("section[aria-labelledby=links-heading] tbody tr")
    assert links.filter(has_text="Project: Falls").locator("td").all_inner_texts()[2] == (
        "Volunteering"
    )
    screenshot(page, "insights-map-volunteering")

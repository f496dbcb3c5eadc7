"""Network metrics on small hand-built graphs whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import igraph
import pytest

from core.insights.graph import Edge, EdgeKind, graph_build, member, network, project
from core.insights.metrics import Person, betweenness, crossing_rates, metrics_compute

WHEN = datetime(2025, 3, 10, 12, tzinfo=UTC)


def ex(giver: int, receiver: int, minutes: int = 60, when: datetime = WHEN) -> Edge:
    return Edge(giver=member(giver), receiver=member(receiver), minutes=minutes, when=when)


def test_graph_build_folds_both_directions_into_one_link() -> None:
    graph = graph_build([ex(1, 2, 60), ex(2, 1, 30), ex(1, 3, 15), ex(4, 4, 90)])
    assert graph.nodes[member(1)].given == 75
    assert graph.nodes[member(1)].received == 30
    assert graph.nodes[member(1)].exchanges == 3
    assert member(4) not in graph.nodes  # helping yourself is not an exchange
    (link,) = [link for pair, link in graph.links.items() if set(pair) == {member(1), member(2)}]
    assert (link.minutes, link.count) == (90, 2)
    assert len(graph.links) == 2


def test_components_and_largest() -> None:
    # 1-2-3 and 4-5 exchanged; 6 only volunteered for project 7 (no member): three
    # components, the largest of three.
    edges = [
        ex(1, 2),
        ex(2, 3),
        ex(5, 4),
        Edge(giver=member(6), receiver=project(7), minutes=120, when=WHEN, kind=EdgeKind.PROJECT),
    ]
    metrics = metrics_compute(edges, {})
    assert metrics["components"] == {"count": 3, "largest": 3}
    assert metrics["members_active"] == 6
    assert metrics["exchanges"] == 3
    assert metrics["minutes_exchanged"] == 180
    assert metrics["minutes_volunteered"] == 120


def test_star_centre_is_the_only_broker_with_betweenness_one() -> None:
    # Every path between two of the four leaves runs through 1: 6 of 6 pairs.
    metrics = metrics_compute([ex(1, 2), ex(3, 1), ex(1, 4), ex(5, 1)], {})
    assert metrics["brokers"] == [{"member_id": 1, "betweenness": 1.0}]


def test_path_betweenness_known_values() -> None:
    # 1-2-3-4-5: member 3 lies on 4 of the 6 pairs of the others, 2 and 4 on 3 each.
    metrics = metrics_compute([ex(1, 2), ex(2, 3), ex(3, 4), ex(4, 5)], {})
    assert metrics["brokers"] == [
        {"member_id": 3, "betweenness": round(4 / 6, 4)},
        {"member_id": 2, "betweenness": 0.5},
        {"member_id": 4, "betweenness": 0.5},
    ]
    assert not metrics["betweenness_estimated"]


def test_bridge_between_two_triangles() -> None:
    # Triangles {1,2,3} and {4,5,6} joined by 3-4: of the 10 pairs without 3, it carries
    # {1,2} x {4,5,6}, 6 of 10 = 0.6; likewise 4.
    edges = [ex(1, 2), ex(2, 3), ex(3, 1), ex(4, 5), ex(5, 6), ex(6, 4), ex(3, 4)]
    brokers = metrics_compute(edges, {})["brokers"]
    assert brokers == [{"member_id": 3, "betweenness": 0.6}, {"member_id": 4, "betweenness": 0.6}]


def test_sampled_betweenness_finds_the_bridge() -> None:
    # Two cliques of 30 that meet only through member 0, who knows everyone: estimated
    # from 20 pivots, 0 leads and nobody else carries a path.
    edges = [
        ex(a, b) for group in (range(1, 31), range(31, 61)) for a in group for b in group if a < b
    ]
    edges += [ex(0, b) for b in range(1, 61)]
    metrics = metrics_compute(edges, {}, pivots=20)
    assert metrics["betweenness_estimated"]
    assert [broker["member_id"] for broker in metrics["brokers"]] == [0]


def test_sampled_estimate_equals_exact_when_every_vertex_is_a_pivot() -> None:
    graph = igraph.Graph.Famous("Zachary")
    exact = betweenness(graph, pivots=graph.vcount())
    assert betweenness(graph, pivots=graph.vcount() - 1, seed=3) != pytest.approx(exact)
    assert max(range(34), key=exact.__getitem__) == 0  # the club's instructor
    assert exact[0] == pytest.approx(0.4376, abs=1e-4)  # networkx's published value


def test_crossing_rates() -> None:
    people = {
        1: Person("nurse", "Oxford University Hospitals"),
        2: Person("doctor", "oxford  university hospitals"),  # same organisation
        3: Person("nurse", "Berkshire Healthcare"),
        4: Person("", ""),  # unknown: left out of both rates
    }
    exchanges = [
        ex(1, 2),
        ex(1, 3),
        ex(3, 1),
        ex(2, 3),
        ex(4, 1),
        Edge(giver=member(1), receiver=network(9), minutes=60, when=WHEN),
    ]
    rates = crossing_rates(exchanges, people)
    # 1-2 doctor/nurse crosses; 1-3, 3-1 nurse/nurse do not; 2-3 crosses: 2 of 4.
    assert rates["profession"] == {"crossing": 2, "of": 4, "rate": 0.5}
    # 1-2 same; 1-3, 3-1, 2-3 cross: 3 of 4.
    assert rates["organisation"] == {"crossing": 3, "of": 4, "rate": 0.75}


def test_crossing_rate_is_none_without_data() -> None:
    assert crossing_rates([], {})["profession"] == {"crossing": 0, "of": 0, "rate": None}


def test_federated_exchanges_counted_but_not_in_the_topology() -> None:
    edges = [
        Edge(giver=member(1), receiver=network(9), minutes=60, when=WHEN),
        Edge(giver=network(9), receiver=member(2), minutes=60, when=WHEN),
    ]
    metrics = metrics_compute(edges, {})
    # Another network is not a broker between 1 and 2; they are two components.
    assert metrics["federated_exchanges"] == 2
    assert metrics["components"] == {"count": 2, "largest": 1}
    assert metrics["brokers"] == []


def test_per_month_in_local_time() -> None:
    # 23:30 UTC on 31 May is 00:30 on 1 June in London (summer time).
    late = datetime(2025, 5, 31, 23, 30, tzinfo=UTC)
    metrics = metrics_compute([ex(1, 2, 30, late), ex(1, 2, 60), ex(2, 1, 90)], {})
    assert metrics["per_month"] == [
        {"month": "2025-03", "exchanges": 2, "minutes": 150},
        {"month": "2025-06", "exchanges": 1, "minutes": 30},
    ]

"""Who helped whom: the network's completed exchanges and project volunteering as edges.

Everything downstream (the map, the metrics) works on plain `Edge` values, so it can be
tested on hand-built graphs and fed from any source. A party is a member of this network
(`Member` id), for a federated exchange the other network as a whole (the member on that
side lives in another schema and is never named here), or a project.

One definition for the map and the metrics: an *exchange* is a completed exchange between
two members (one of them perhaps in a partner network); *volunteering* is a lead's
confirmation of a volunteer's hours, a line from the volunteer to the project, paid from
the project's budget. Volunteering is never counted as an exchange, nor as help its lead
received.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple


class EdgeKind:
    EXCHANGE = "exchange"
    PROJECT = "project"  # a volunteer's confirmed hours, towards the project


class Party(NamedTuple):
    """One end of an edge: a member of this network, another network's members, or a
    project of this network. A tuple, so that hashing and comparing one (what building
    the graph does most) runs in C."""

    member_id: int | None = None
    network_id: int | None = None
    project_id: int | None = None

    @property
    def is_member(self) -> bool:
        return self.member_id is not None


class Edge(NamedTuple):
    """One exchange or confirmation of volunteered hours (a tuple: there are tens of
    thousands per map)."""

    giver: Party
    receiver: Party
    minutes: int
    when: datetime
    kind: str = EdgeKind.EXCHANGE
    category: str = ""
    format: str = ""


def member(member_id: int) -> Party:
    return Party(member_id=member_id)


def network(network_id: int) -> Party:
    return Party(network_id=network_id)


def project(project_id: int) -> Party:
    return Party(project_id=project_id)


@dataclass(slots=True)
class NodeTotals:
    given: int = 0  # minutes, in exchanges and volunteering
    received: int = 0
    exchanges: int = 0  # exchanges the party took part in
    volunteering: int = 0  # confirmations of volunteered hours (as volunteer or project)


@dataclass(slots=True)
class Link:
    minutes: int = 0
    count: int = 0
    kind: str = EdgeKind.EXCHANGE  # a pair is either two parties or a volunteer and a project


@dataclass(slots=True)
class Graph:
    """Edges folded into an undirected weighted graph: a node per party, a link per pair."""

    nodes: dict[Party, NodeTotals] = field(default_factory=dict)
    links: dict[tuple[Party, Party], Link] = field(default_factory=dict)


def _pair(a: Party, b: Party) -> tuple[Party, Party]:
    key = (
        (a.member_id or 0, a.network_id or 0, a.project_id or 0),
        (b.member_id or 0, b.network_id or 0, b.project_id or 0),
    )
    return (a, b) if key[0] <= key[1] else (b, a)


def graph_build(edges: Iterable[Edge]) -> Graph:
    """Fold edges into nodes (minutes given and received) and links (minutes and count per
    pair, whichever way the help went). A member helping themself is ignored."""
    graph = Graph()
    nodes, links = graph.nodes, graph.links
    for edge in edges:
        if edge.giver == edge.receiver:
            continue
        giver = nodes.get(edge.giver) or nodes.setdefault(edge.giver, NodeTotals())
        receiver = nodes.get(edge.receiver) or nodes.setdefault(edge.receiver, NodeTotals())
        giver.given += edge.minutes
        receiver.received += edge.minutes
        if edge.kind == EdgeKind.PROJECT:
            giver.volunteering += 1
            receiver.volunteering += 1
        else:
            giver.exchanges += 1
            receiver.exchanges += 1
        pair = _pair(edge.giver, edge.receiver)
        link = links.get(pair) or links.setdefault(pair, Link(kind=edge.kind))
        link.minutes += edge.minutes
        link.count += 1
    return graph

"""The network map, computed and stored per network and date range (read back as stored
by `selectors.map.network_map_stored`).

Building the map for 4,000 members and 20,000 exchanges takes most of a second of CPU, so
no request builds it: the metrics task (tasks.network_metrics_refresh, queued when an
exchange completes and run nightly by beat) stores the all-time map with the metrics, and a
date range nobody asked for before is queued on first request while the page says the map
is being prepared. Rows live in the network's own schema (`MapSnapshot`), so one
network's map is never read under another's.

What is stored is what anyone may see (`map_payload(viewer=None)`): members who opted out
are "A member". `hidden_fingerprint()` hashes who is not shown by name; a stored map
whose fingerprint differs from today's (someone opted out, or closed their account) is
never served but recomputed. A viewer finds their own node through `member_nodes`.

Past `AGGREGATE_ABOVE` nodes the map is stored as groups (members by profession; those not
shown by name in one group of their own, so a group reveals nothing about them), and each
group as a map of its own members, so the browser never draws more than one group's worth.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.insights.graph import Edge
from core.insights.models import MapSnapshot
from core.insights.selectors.map import DateRange, hidden_fingerprint, map_payload, range_key
from kernel.db import connection, transaction_lock

AGGREGATE_ABOVE = 300  # nodes; past this the map is stored as groups
TABLE_ROWS = 500  # rows per table on the page
PENDING_SECONDS = 120
_MAP_LOCK_SPACE = 0x6D6170  # first key of the per-network map store lock: "map"
NOT_SHOWN = "not-shown"
NOT_GIVEN = "not-given"


def pending_key(schema_name: str, key: str) -> str:
    return f"insights:network-map-pending:{schema_name}:{key}"


def _group_of(node: dict[str, Any]) -> tuple[str, str]:
    """(key, label) of a member's group: their profession, or theirs alone to keep."""
    if node["kind"] == "anonymous":
        return NOT_SHOWN, _("Members not shown by name")
    if not node["profession"]:
        return NOT_GIVEN, _("Profession not given")
    return slugify(node["profession"]), node["profession"]


def _group_node(key: str, label: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"group-{key}",
        "kind": "group",
        "group": key,
        "label": label,
        "profession": label if key not in (NOT_SHOWN, NOT_GIVEN) else "",
        "organisation": "",
        "members": len(members),
        "given_minutes": sum(n["given_minutes"] for n in members),
        "received_minutes": sum(n["received_minutes"] for n in members),
        "exchanges": sum(n["exchanges"] for n in members),
        "volunteering": sum(n["volunteering"] for n in members),
    }


def _fold_links(links: list[dict[str, Any]], owner: dict[str, str]) -> list[dict[str, Any]]:
    """Links between the nodes `owner` maps each end to (ends mapped to themselves where
    absent), summed; links within one node are dropped."""
    folded: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for link in links:
        a, b = owner.get(link["source"], link["source"]), owner.get(link["target"], link["target"])
        if a == b:
            continue
        a, b = min(a, b), max(a, b)
        total = folded[(a, b, link["kind"])]
        total[0] += link["minutes"]
        total[1] += link["count"]
    return sorted(
        (
            {"source": a, "target": b, "kind": kind, "minutes": m, "count": c}
            for (a, b, kind), (m, c) in folded.items()
        ),
        key=lambda link: -link["minutes"],
    )


@dataclass(frozen=True, slots=True)
class MapPart:
    group: str
    nodes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    groups: list[dict[str, Any]]  # the overview's groups (for its table), else []
    owner: dict[str, str]  # a member's node id -> the group node standing for them here


def map_parts(payload: dict[str, Any]) -> list[MapPart]:
    """The map as stored: one part if it is small, else the overview of groups and one part
    per group (its members, and the other groups, networks and projects they link to)."""
    nodes, links = payload["nodes"], payload["links"]
    if len(nodes) <= AGGREGATE_ABOVE:
        return [MapPart("", nodes, links, [], {})]
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    labels: dict[str, str] = {}
    owner: dict[str, str] = {}
    for node in nodes:
        if node["kind"] in ("member", "anonymous"):
            key, labels[key] = _group_of(node)
            members[key].append(node)
            owner[node["id"]] = f"group-{key}"
    groups = sorted(
        (_group_node(key, labels[key], found) for key, found in members.items()),
        key=lambda g: -(g["given_minutes"] + g["received_minutes"]),
    )
    others = [node for node in nodes if node["id"] not in owner]
    parts = [MapPart("", groups + others, _fold_links(links, owner), groups, owner)]
    by_id = {group["id"]: group for group in groups}
    for group in groups:
        mine = {node["id"] for node in members[group["group"]]}
        # The group's members stay themselves; everyone else folds into their group.
        outside = {node_id: to for node_id, to in owner.items() if node_id not in mine}
        touching = [link for link in links if link["source"] in mine or link["target"] in mine]
        group_links = _fold_links(touching, outside)
        ends = {end for link in group_links for end in (link["source"], link["target"])}
        neighbours = [by_id[end] for end in sorted(ends) if end in by_id]
        neighbours += [node for node in others if node["id"] in ends]
        parts.append(
            MapPart(group["group"], members[group["group"]] + neighbours, group_links, [], {})
        )
    return parts


def _row(key: str, part: MapPart, payload: dict[str, Any], hidden: str) -> MapSnapshot:
    labels = {node["id"]: node["label"] for node in part.nodes}
    counted = [node for node in part.nodes if node["kind"] in ("member", "anonymous")]
    summary = {
        "active_members": payload["active_members"],
        "nodes": len(part.nodes),
        "links_total": len(part.links),
        "projects": sum(node["kind"] == "project" for node in part.nodes),
        "other_networks": sum(node["kind"] == "network" for node in part.nodes),
        "groups": len(part.groups),
        "members_in_part": len(counted),
        "aggregated": bool(part.groups) or bool(part.group),
    }
    body = {
        "nodes": part.nodes,
        "links": part.links,
        "active_members": payload["active_members"],
        "aggregated": summary["aggregated"],
        "group": part.group,
    }
    raw = json.dumps(body, separators=(",", ":")).encode()
    table_html = render_to_string(
        "insights/map_tables.html",
        {
            "groups": part.groups,
            "people": [n for n in part.nodes if n["kind"] != "group"][:TABLE_ROWS],
            "people_total": sum(n["kind"] != "group" for n in part.nodes),
            "links": [
                {
                    **link,
                    "source_label": labels[link["source"]],
                    "target_label": labels[link["target"]],
                }
                for link in part.links[:TABLE_ROWS]
            ],
            "links_total": len(part.links),
            "range_query": "".join(
                f"{name}={value}&"
                for name, value in zip(("start", "end"), key.split(".."), strict=True)
                if value
            ),
        },
    )
    return MapSnapshot(
        range_key=key,
        group=part.group,
        computed_at=timezone.now(),
        etag=hashlib.sha256(raw).hexdigest()[:32],
        body=gzip.compress(raw, 6),
        table_html=table_html,
        summary=summary,
        hidden=hidden,
        member_nodes={
            f"m{pk}": part.owner.get(node, node)
            for pk, node in payload["member_nodes"].items()
            if node in part.owner or node in labels
        },
    )


def network_map_store(schema_name: str, *, dates: DateRange, edges: list[Edge]) -> int:
    """Compute and store the map of the network whose schema is current for `dates` from
    its `edges` (replacing what was stored for them), in one transaction. Returns the
    number of rows stored. Called by the metrics task, which has the edges already."""
    if connection.schema_name != schema_name:
        raise RuntimeError(f"map for {schema_name} asked in {connection.schema_name}")
    key = range_key(dates)
    cache.delete(pending_key(schema_name, key))
    hidden = hidden_fingerprint()
    payload = map_payload(viewer=None, edges=edges)
    rows = [_row(key, part, payload, hidden) for part in map_parts(payload)]
    with transaction.atomic(durable=True):
        # Two refreshes at once (two completions, or one and an organiser's ask) take turns:
        # the later one then deletes what the first stored instead of colliding with it on
        # insights_map_once.
        transaction_lock(_MAP_LOCK_SPACE, schema_name)
        MapSnapshot.objects.filter(range_key=key).delete()
        if not key.strip("."):
            # The all-time map is refreshed after a change; other ranges are recomputed
            # when next asked for rather than served out of date.
            MapSnapshot.objects.exclude(range_key=key).delete()
        MapSnapshot.objects.bulk_create(rows)
    return len(rows)


def network_map_request(schema_name: str, *, dates: DateRange) -> bool:
    """Queue the map's computation for `dates` after the current transaction commits,
    unless it is queued already. Returns whether it was queued."""
    key = range_key(dates)
    if not cache.add(pending_key(schema_name, key), 1, PENDING_SECONDS):
        return False
    transaction.on_commit(
        lambda: current_app.send_task(
            "core.insights.tasks.network_map_refresh", args=[schema_name, key]
        ),
        robust=True,
    )
    return True

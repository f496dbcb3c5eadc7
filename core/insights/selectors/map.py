"""The network map as the viewer may see it: nodes, links and the date range asked for;
and the map as stored (`services.map` computes and stores it, off the request).

Privacy is decided here, once, for the JSON endpoint and the table alike:
- a member who turned `show_on_map` off is "A member": no name, profession, organisation
  or id (anonymous nodes are numbered per response), except to themself;
- names otherwise follow `profile_visibility`: only the visibilities listed in
  `NAME_SHOWN` show a name on the map, so a visibility added later hides it until
  someone decides otherwise;
- another network's members are never nodes: a federated exchange links to one node for
  that network as a whole;
- a project is a node of its own (its title), joined to its volunteers by volunteering
  lines (see `graph`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.insights.graph import Edge, EdgeKind, Party, graph_build
from core.insights.models import MapSnapshot
from core.members.models import Member, MemberState, Profession, ProfileVisibility
from core.projects.models import Project
from kernel.errors import ApplicationError, NotFound
from tenants.models import Network

NAME_SHOWN = frozenset({ProfileVisibility.NETWORK, ProfileVisibility.NAME_ONLY})
ANONYMOUS = "A member"


class DateRangeInvalid(ApplicationError):
    pass


@dataclass(frozen=True, slots=True)
class DateRange:
    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and self.start > self.end:
            raise DateRangeInvalid(
                _("The start date must be on or before the end date."), field="start"
            )

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start of the first day, start of the day after the last), in local time."""
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.start, time.min, zone) if self.start else None
        end = datetime.combine(self.end + timedelta(days=1), time.min, zone) if self.end else None
        return start, end


def name_shown(*, viewer: Member | None, member: Member) -> bool:
    """Whether the map shows `member` by name to `viewer` (None: to anyone, as the stored
    map does)."""
    if viewer is not None and viewer.pk == member.pk:
        return True
    return member.show_on_map and member.profile_visibility in NAME_SHOWN


def _url_maker(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` as string formatting: one reverse() per map, not per node."""
    marker = 987654321
    pattern = reverse(name, args=[marker])
    return lambda pk: pattern.replace(str(marker), str(pk))


def map_payload(*, viewer: Member | None, edges: list[Edge]) -> dict[str, Any]:
    """Nodes (largest first) and links for the map and its table, as `viewer` may see them
    (None: anyone, for the stored map). Up to three queries: the members on the map, the
    names of the other networks and of the projects. Also `member_nodes`, each member's
    node id (for the stored map to tell a viewer which node is them)."""
    graph = graph_build(edges)
    member_ids = [party.member_id for party in graph.nodes if party.member_id is not None]
    fields = (
        "full_name",
        "profession",
        "organisation",
        "show_on_map",
        "profile_visibility",
        "is_active",
        "state",
    )
    shown = Member.objects.filter(pk__in=member_ids, is_staff=False).only(*fields)
    members = {m.pk: m for m in shown}
    # Counted as the equality report counts them (core/insights/selectors/equality.py): current
    # members only. A former member may still be on the map, as "A member".
    active_members = sum(m.is_active and m.state == MemberState.ACTIVE for m in members.values())
    network_ids = [party.network_id for party in graph.nodes if party.network_id is not None]
    networks = (
        dict(Network.objects.filter(pk__in=network_ids).values_list("pk", "name"))
        if network_ids
        else {}
    )
    project_ids = [party.project_id for party in graph.nodes if party.project_id is not None]
    projects = (
        dict(Project.objects.filter(pk__in=project_ids).values_list("pk", "title"))
        if project_ids
        else {}
    )
    professions = {value: str(label) for value, label in Profession.choices}
    project_url, profile_url = _url_maker("project-detail"), _url_maker("member-profile")
    member_nodes: dict[int, str] = {}
    order = sorted(graph.nodes.items(), key=lambda item: -(item[1].given + item[1].received))
    node_ids: dict[Party, str] = {}
    nodes = []
    anonymous = 0
    for party, totals in order:
        node: dict[str, Any]
        if party.project_id is not None:
            node = {
                "id": f"project-{party.project_id}",
                "kind": "project",
                "label": f"Project: {projects.get(party.project_id, '')}",
                "profession": "",
                "organisation": "",
                "url": project_url(party.project_id),
            }
        elif party.network_id is not None:
            name = networks.get(party.network_id, "another network")
            node = {
                "id": f"network-{party.network_id}",
                "kind": "network",
                "label": f"Members of {name}",
                "profession": "",
                "organisation": name,
            }
        else:
            member = members.get(party.member_id or 0)
            if member is not None and name_shown(viewer=viewer, member=member):
                node = {
                    "id": f"member-{member.pk}",
                    "kind": "member",
                    "label": member.full_name,
                    "profession": professions.get(member.profession, ""),
                    "organisation": member.organisation,
                    "url": profile_url(member.pk),
                }
                if viewer is not None:
                    node["you"] = member.pk == viewer.pk
            else:
                anonymous += 1
                node = {
                    "id": f"anonymous-{anonymous}",
                    "kind": "anonymous",
                    "label": ANONYMOUS,
                    "profession": "",
                    "organisation": "",
                }
        node.update(
            given_minutes=totals.given,
            received_minutes=totals.received,
            exchanges=totals.exchanges,
            volunteering=totals.volunteering,
        )
        node_ids[party] = node["id"]
        if party.member_id is not None:
            member_nodes[party.member_id] = node["id"]
        nodes.append(node)
    links = [
        {
            "source": node_ids[a],
            "target": node_ids[b],
            "minutes": link.minutes,
            "count": link.count,
            "kind": "volunteering" if link.kind == EdgeKind.PROJECT else "exchange",
        }
        for (a, b), link in sorted(graph.links.items(), key=lambda item: -item[1].minutes)
    ]
    return {
        "nodes": nodes,
        "links": links,
        "active_members": active_members,
        "member_nodes": member_nodes,
    }


# --- The map as stored -------------------------------------------------------------------


class MapGroupUnknown(NotFound):
    pass


def range_key(dates: DateRange) -> str:
    return f"{dates.start or ''}..{dates.end or ''}"


def range_from_key(key: str) -> DateRange:
    start, _sep, end = key.partition("..")
    return DateRange(
        date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None
    )


def hidden_fingerprint() -> str:
    """A hash of the members the map may not name (staff, opted out, profile not shown):
    one query. Stored with the map and compared before serving it."""
    ids = (
        Member.objects.filter(
            Q(is_staff=True) | Q(show_on_map=False) | ~Q(profile_visibility__in=NAME_SHOWN)
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()


def network_map_stored(
    *, dates: DateRange, group: str = "", fields: tuple[str, ...], viewer: Member | None = None
) -> dict[str, Any] | None:
    """The stored map part's `fields` (and `you`, the viewer's node id or their group's,
    when a viewer is given), or None when nothing is stored or what is stored names someone
    who may no longer be named: then the caller queues its computation
    (`services.map.network_map_request`). Two queries. Raises `MapGroupUnknown` for a group
    the stored map does not have."""
    key = range_key(dates)
    found = MapSnapshot.objects.filter(range_key=key, group=group)
    values = ["hidden", *fields]
    if viewer is not None:
        # "m<id>": a key of digits alone would be read as an array index.
        found = found.annotate(you=KeyTextTransform(f"m{viewer.pk}", "member_nodes"))
        values.append("you")
    row = found.values(*values).first()
    if row is not None and row["hidden"] == hidden_fingerprint():
        return row
    if row is None and group and MapSnapshot.objects.filter(range_key=key).exists():
        raise MapGroupUnknown(
            _("There is no such group on the map for these dates."), field="group"
        )
    return None

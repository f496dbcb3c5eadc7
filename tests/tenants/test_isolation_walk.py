"""Nothing of another network's, or of another member's, is read or changed through any URL.

The walk is generic: its requests come from the OpenAPI schema's operations and from the
tenant and public URL resolvers' patterns, so an endpoint or page added later is walked
without an edit here. Each path id is filled with ids of the other network's objects, of
other members' objects and one id of nothing (`<name>_id` names the model; an unknown name
gets ids of every kind), each body with plausible values from the schema, and each request
is sent as the member and the organiser of network A and of network B, signed in on their
own network's host, and as platform staff signed in on the public site. Leaks:

- read: a response carries a marker text the walker may not see: the other network's
  listing title, a member's private bio, the thread of an exchange between two others,
  another member's notification (organisers may see their own network's members' profiles
  and disputes, so for them only the other network's markers count);
- existence: a request for the other network's ids is answered otherwise than the same
  request for ids of nothing (B's ids start at 100001, so they are no ids at all in A);
- write: a row of the other network's schema is changed, gone or new; for an ordinary
  member, a row that belongs to other members only is changed or gone; a row of the
  public schema is changed or gone;
- a server error, which could hide any of these.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.exchanges import services as x
from core.exchanges.actions import ACTIONS
from core.listings.services import listing_create
from core.members.models import Member, ProfileVisibility, Role
from core.members.services import member_profile_update
from core.notifications.models import Kind
from core.notifications.services import notification_send
from kernel.db import connection
from tenants.models import Network
from tests.conftest import NetworkClient, host_of

pytestmark = pytest.mark.slow

# Pages that end the walker's own session are not walked (they are nobody else's data).
SESSION_ENDERS = {"logout"}
FRESH_ID = 987_654
# The console's moves on a network (tenants/console.py), tried by every network's people.
STAFF_ACTIONS = ("suspend", "resume", "plan", "export", "delete")
# What a page's form may ask for; pages take what they know and ignore the rest.
FORM = {
    "reason": "walk",
    "role": Role.ORGANISER,
    "status": "closed",
    "title": "walk",
    "body": "walk",
    "message": "walk",
    "text": "walk",
    "minutes": "60",
    "pledged_minutes": "60",
    "outcome": "giver",
    "note": "walk",
}


@dataclass
class Side:
    """One network as the walk sees it: its people and the markers only some may see."""

    network: Network
    organiser: Member
    member: Member  # the ordinary member who walks
    others: list[Member]  # members whose private markers the walker must not see
    public_marker: str  # seen by everyone in this network, by no one elsewhere
    private_markers: list[str]  # seen by `others` (and, some, the organiser) only


def _mark(network: Network, people: list[Member]) -> Side:
    """Markers, made through the services as users would make them."""
    tag = f"{network.slug}-{uuid.uuid4().hex[:8]}"
    organiser, owner, asker, walker = people[0], people[1], people[2], people[3]
    with tenant_context(network):
        public = f"listing of {tag}"
        listing = listing_create(
            actor=owner, kind="offer", title=public, description="walk", category="coaching"
        )
        thread = f"thread of {tag}"
        exchange = x.exchange_respond(actor=asker, listing=listing, message=thread)
        x.exchange_accept(actor=owner, exchange=exchange)
        bio = f"bio of {tag}"
        member_profile_update(actor=owner, bio=bio, profile_visibility=ProfileVisibility.NAME_ONLY)
        note = f"notification of {tag}"
        notification_send(recipient=owner, kind=Kind.ACCOUNT, key=tag, title=note)
        walker.refresh_from_db()
    return Side(network, organiser, walker, [owner, asker], public, [thread, bio, note])


def _models(app_names: set[str]) -> list[type[models.Model]]:
    """The concrete models of those apps (as named in SHARED_APPS / TENANT_APPS)."""
    return [
        model
        for config in apps.get_app_configs()
        if config.name in app_names
        for model in config.get_models()
        if not model._meta.proxy
    ]


def _id_models() -> dict[str, type[models.Model]]:
    """`<model name>_id` path parameters, by name, for every model with integer ids in a
    network's schema."""
    return {
        f"{model._meta.model_name}_id": model
        for model in _models(set(settings.TENANT_APPS))
        if isinstance(model._meta.pk, models.IntegerField | models.AutoField)
    }


MODELS = _id_models()


def _ids(model: type[models.Model], network: Network) -> list[int]:
    """The first and the last ids of the model's rows in the network."""
    with tenant_context(network):
        ids = model._default_manager.order_by("pk").values_list("pk", flat=True)
        return [*ids[:3], *ids.reverse()[:3]]


def _fill_values(here: Side, there: Side) -> dict[str, list[Any]]:
    """Values for each path parameter name: ids of the other network's objects, of other
    members' objects here, and one id that exists nowhere."""
    values: dict[str, list[Any]] = {
        "slug": [there.network.slug, here.network.slug],
        "action": sorted({*ACTIONS, *STAFF_ACTIONS}),
        "name": ["walk"],
        "token": ["walk"],
        "uidb64": ["MQ"],
    }
    every_id: set[int] = {FRESH_ID}  # for names that name no model: one id of each kind
    for name, model in MODELS.items():
        theirs, ours = _ids(model, there.network), _ids(model, here.network)
        values[name] = sorted({*theirs, *ours, FRESH_ID})
        every_id.update(theirs[:1], ours[:1])
    values["*"] = sorted(every_id)
    return values


def _body(schema: dict[str, Any], spec: dict[str, Any], ids: list[int]) -> Any:
    """A plausible value for a JSON schema: the walk is after reaching the code behind
    the validation, not after testing it."""
    if "$ref" in schema:
        return _body(spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], spec, ids)
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema:
            return _body(schema[combined][0], spec, ids)
    if "enum" in schema:
        return next(value for value in schema["enum"] if value not in ("", None))
    kind = schema.get("type", "object")
    if kind == "object":
        return {
            name: _body(field, spec, ids)
            for name, field in schema.get("properties", {}).items()
            if not field.get("readOnly")
        }
    if kind == "array":
        return [_body(schema.get("items", {}), spec, ids)]
    if kind == "integer":
        return ids[0]
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return timezone.localdate().isoformat()
    if schema.get("format") == "date-time":
        return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)).isoformat()
    return "walk"


@dataclass
class Request:
    method: str
    host: str
    path: str
    body: Any
    key: tuple[Any, ...]  # the same request but for the ids of known models in its path
    ids: tuple[tuple[type[models.Model], int], ...]  # those ids, with their models


def _fill(route: str, values: dict[str, list[Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every way of filling a route's `{name}` placeholders with the values for its names:
    (path, the value given to each name)."""
    match = re.search(r"\{(\w+)\}", route)
    if match is None:
        yield route, {}
        return
    name = match.group(1)
    for value in values.get(name, values["*"]):
        filled = route[: match.start()] + str(value) + route[match.end() :]
        for path, given in _fill(filled, values):
            yield path, {name: value, **given}


def _request(
    method: str, host: str, route: str, given: dict[str, Any], body: Any, variant: int
) -> Request:
    """A request, keyed by what it asks apart from the ids of known models in its path."""
    ids = tuple((MODELS[name], value) for name, value in given.items() if name in MODELS)
    path = route
    for name, value in given.items():
        path = path.replace("{" + name + "}", str(value), 1)
    shape = route
    for name, value in given.items():
        if name not in MODELS:
            shape = shape.replace("{" + name + "}", str(value), 1)
    return Request(method, host, path, body, (method, host, shape, variant), ids)


def _api_requests(
    spec: dict[str, Any], values: dict[str, list[Any]], host: str
) -> Iterator[Request]:
    for route, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            for path, given in _fill(route, values):
                ids = [int(n) for n in re.findall(r"/(\d+)/", path)] or values["*"]
                for variant, body in enumerate(_bodies(schema, spec, ids)):
                    yield _request(method.upper(), host, route, given, body, variant)


def _bodies(schema: dict[str, Any] | None, spec: dict[str, Any], ids: list[int]) -> list[Any]:
    """The required fields alone, then with each optional field in turn: one field a
    service refuses must not hide what another would have let through."""
    if schema is None:
        return [None]
    full = _body(schema, spec, ids)
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if not isinstance(full, dict):
        return [full]
    required = {name: full[name] for name in schema.get("required", []) if name in full}
    return [required] + [
        {**required, name: value} for name, value in full.items() if name not in required
    ]


def _page_routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(route with `{name}` placeholders, url name) for every page the resolver knows,
    the API aside (the schema drives that)."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _page_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and not route.startswith("api/"):
            yield re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), pattern.name or ""


def _page_requests(urlconf: str, values: dict[str, list[Any]], host: str) -> Iterator[Request]:
    for route, name in _page_routes(get_resolver(urlconf).url_patterns):
        if name in SESSION_ENDERS:
            continue
        for _path, given in _fill("/" + route, values):
            yield _request("GET", host, "/" + route, given, None, 0)
            yield _request("POST", host, "/" + route, given, FORM, 0)


# Rows that name a member one step away: a booking is also its session's giver's, who may
# cancel the session and with it everyone's booking.
NAMED_THROUGH = {"groupsessions.Booking": "session__giver_id"}


def _snapshot(network: Network, owners: set[int] | None) -> dict[str, dict[Any, Any]]:
    """Every row of the network's schema; with `owners`, only rows that name one of those
    members and no one else (a row naming the walker too may change by the walker's hand)."""
    rows: dict[str, dict[Any, Any]] = {}
    with tenant_context(network):
        for model in _models(set(settings.TENANT_APPS)):
            queryset = model._default_manager.all()
            if owners is not None:
                member_columns = [
                    column.attname
                    for column in model._meta.concrete_fields
                    if column.is_relation and column.related_model is Member
                ] + (["id"] if model is Member else [])
                if not member_columns:
                    continue
                if (through := NAMED_THROUGH.get(model._meta.label)) is not None:
                    queryset = queryset.annotate(named_through=models.F(through))
                    member_columns.append("named_through")
                found = []
                for row in queryset.values():
                    named = {row[column] for column in member_columns} - {None}
                    if named and named <= owners:
                        found.append(row)
            else:
                found = list(queryset.values())
            pk = model._meta.pk.attname
            rows[model._meta.label] = {row[pk]: row for row in found}
    return rows


def _changed(
    before: dict[str, dict[Any, Any]], after: dict[str, dict[Any, Any]], *, added: bool
) -> list[str]:
    """Rows that were there before and are different or gone, and with `added` new rows
    too (in another network nothing may appear; here, a response notifies its listing's
    owner, so a new row naming only others is the walker's own doing)."""
    changed = [
        f"{table} #{pk}: {row} -> {after.get(table, {}).get(pk)}"
        for table, table_rows in before.items()
        for pk, row in table_rows.items()
        if after.get(table, {}).get(pk) != row
    ]
    if added:
        changed += [
            f"{table} #{pk}: new {row}"
            for table, table_rows in after.items()
            for pk, row in table_rows.items()
            if pk not in before.get(table, {})
        ]
    return changed


@dataclass
class Tally:
    tried: int = 0
    # 2xx answers by walker: the walk reached the code behind the doors, signed in.
    answered: dict[str, int] = field(default_factory=dict)
    compared: int = 0  # requests for other networks' ids compared with ids of nothing
    leaks: list[str] = field(default_factory=list)


def _send(client: Client, request: Request) -> Any:
    host = request.host
    if request.method == "GET":
        return client.get(request.path, HTTP_HOST=host)
    if request.path.startswith("/api/"):
        return client.generic(
            request.method,
            request.path,
            json.dumps(request.body or {}),
            content_type="application/json",
            HTTP_HOST=host,
        )
    return client.post(request.path, request.body or {}, HTTP_HOST=host)


def _walk(
    client: Client,
    who: str,
    network: Network,
    requests: list[Request],
    forbidden: list[str],
    tally: Tally,
    sign_in: Callable[[], None],
) -> None:
    """Send every request; a request whose path ids exist nowhere in `network` (another
    network's) must be answered as the same request for ids that exist nowhere at all."""
    sign_in()
    fresh: dict[tuple[Any, ...], int] = {}
    absent: list[tuple[Request, int]] = []
    for request in requests:
        tally.tried += 1
        with tenant_context(network):
            missing = [
                not model._default_manager.filter(pk=pk).exists() for model, pk in request.ids
            ]
        response = _send(client, request)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        text = content.decode("utf-8", "replace")
        label = f"{who}: {request.method} {request.host}{request.path}"
        tally.answered[who] = tally.answered.get(who, 0) + (200 <= response.status_code < 300)
        if response.status_code >= 500:
            tally.leaks.append(f"{label} -> {response.status_code}")
        tally.leaks.extend(f"{label} shows {marker!r}" for marker in forbidden if marker in text)
        if request.ids and all(pk == FRESH_ID for _model, pk in request.ids):
            fresh[request.key] = response.status_code
        elif request.ids and all(missing):
            absent.append((request, response.status_code))
        if "/login/" in response.get("Location", ""):
            sign_in()  # a page signed the walker out (a password change, say): sign in again
    for request, status in absent:
        tally.compared += 1
        if status != fresh[request.key]:
            tally.leaks.append(
                f"{who}: {request.method} {request.host}{request.path} -> {status}, "
                f"but {fresh[request.key]} for ids that exist nowhere"
            )


def _public_snapshot() -> dict[str, dict[Any, Any]]:
    """The public schema's rows: networks, their domains, plans, federation, staff."""
    connection.set_schema_to_public()
    return {
        model._meta.label: {
            row[model._meta.pk.attname]: row for row in model._default_manager.all().values()
        }
        for model in _models(set(settings.SHARED_APPS) - set(settings.TENANT_APPS))
    }


@pytest.mark.django_db(transaction=False)
def test_no_role_of_either_network_reads_or_changes_what_is_not_theirs(
    demo_like: dict[Network, list[Member]], capsys: pytest.CaptureFixture[str]
) -> None:
    sides = [_mark(network, people) for network, people in demo_like.items()]
    staff = Member.objects.create_superuser(
        "walk-staff@hexitime.example", "pw", full_name="Walk Staff"
    )
    reader = NetworkClient(sides[0].network)
    reader.force_login(sides[0].member)
    spec = yaml.safe_load(reader.get("/api/v1/schema/").content)
    public_host = settings.HEXITIME_BASE_DOMAIN
    tally = Tally()
    public_before = _public_snapshot()
    every_private = [marker for side in sides for marker in side.private_markers]

    for here, there in (sides, sides[::-1]):
        values = _fill_values(here, there)
        host = host_of(here.network)
        network_requests = [
            *_api_requests(spec, values, host),
            *_page_requests(settings.ROOT_URLCONF, values, host),
        ]
        public_requests = list(_page_requests(settings.PUBLIC_SCHEMA_URLCONF, values, public_host))
        for actor in (here.member, here.organiser):
            forbidden = [there.public_marker, *there.private_markers]
            if actor.role != Role.ORGANISER:
                forbidden += here.private_markers
            theirs = _snapshot(there.network, None)
            owners = {member.pk for member in here.others}
            others = _snapshot(here.network, owners)
            client = NetworkClient(here.network, raise_request_exception=False)
            who = f"{actor.role} of {here.network.slug}"
            _walk(
                client,
                who,
                here.network,
                network_requests + public_requests,
                forbidden,
                tally,
                sign_in=partial(client.force_login, actor),
            )
            tally.leaks.extend(
                f"{who} changed {there.network.slug}'s {row}"
                for row in _changed(theirs, _snapshot(there.network, None), added=True)
            )
            if actor.role != Role.ORGANISER:
                tally.leaks.extend(
                    f"{who} changed another member's {row}"
                    for row in _changed(others, _snapshot(here.network, owners), added=False)
                )
        # Platform staff, signed in on the public site, are nobody inside a network.
        staff_client = Client(HTTP_HOST=public_host, raise_request_exception=False)
        before = _snapshot(here.network, None)
        _walk(
            staff_client,
            "platform staff",
            here.network,
            network_requests,
            every_private,
            tally,
            sign_in=partial(staff_client.force_login, staff),
        )
        tally.leaks.extend(
            f"platform staff changed {here.network.slug}'s {row}"
            for row in _changed(before, _snapshot(here.network, None), added=True)
        )
    tally.leaks.extend(
        f"a network's member changed the public schema's {row}"
        for row in _changed(public_before, _public_snapshot(), added=False)
    )
    with capsys.disabled():
        print(
            f"\nisolation walk: {tally.tried} requests tried, {len(tally.leaks)} leaks found; "
            f"{tally.compared} answers for other networks' ids compared with ids of nothing; "
            f"answered 2xx: {tally.answered}"
        )
    assert tally.tried > 1000 and tally.compared > 100
    assert all(count > 50 for who, count in tally.answered.items() if " of " in who)
    assert not tally.leaks, "\n".join(tally.leaks)

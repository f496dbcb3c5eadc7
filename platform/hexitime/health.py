"""`/healthz` and `/readyz`, answered on any host before routing, redirects or sessions.

Probes reach a pod by its address, with whatever Host header the prober sends, over
plain HTTP: so these answer ahead of the tenant middleware (which would refuse an unknown
host) and of the HTTPS redirect (a probe would take the 301 for a failure).

- `/healthz`: the process answers (liveness). It touches nothing else, so a database
  outage never gets healthy pods restarted.
- `/readyz`: this process can serve (readiness): the database and Redis answer and the
  release step has run for this version's migrations (the public schema has nothing left
  to apply and the network schema template for this migration state exists, which
  `hexitime release` captures after migrating every network). 503 with what failed.
"""

from __future__ import annotations

from collections.abc import Callable

import redis
from django.conf import settings
from django.db import DatabaseError
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse

from kernel.db import connection
from tenants.models import SchemaTemplate
from tenants.services.schemas import tenant_migration_state


class HealthMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.released = False  # once true for this process, it stays true

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path == "/healthz":
            return HttpResponse("ok\n", content_type="text/plain")
        if request.path == "/readyz":
            return self.ready()
        return self.get_response(request)

    def ready(self) -> JsonResponse:
        checks = {"database": _database(), "redis": _redis()}
        if checks["database"] == "ok":
            if not self.released:
                checks["release"] = _released()
                self.released = checks["release"] == "ok"
            else:
                checks["release"] = "ok"
        ok = all(value == "ok" for value in checks.values())
        response = JsonResponse({"ready": ok, **checks}, status=200 if ok else 503)
        response["Cache-Control"] = "no-store"
        return response


def _database() -> str:
    try:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        connection.close()  # a broken connection must not be reused by the next request
        return f"unreachable: {error}".strip()
    return "ok"


def _redis() -> str:
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"unreachable: {error}"
    return "ok"


def _released() -> str:
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        return f"{len(pending)} migrations not applied: run `hexitime release`"
    if not SchemaTemplate.objects.filter(state=tenant_migration_state()).exists():
        return "network schemas not migrated for this version: run `hexitime release`"
    return "ok"

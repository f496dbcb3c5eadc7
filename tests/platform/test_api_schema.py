"""The API answers as its OpenAPI schema says, checked by schemathesis in-process against
the WSGI application: every operation with valid and invalid input, then the stateful phase
(operations chained through the links schemathesis infers), as a signed-in member of a
network filled like a demonstration one. Fails on any server error, any response that does
not match its schema (status, content type, body) and any invalid input accepted.

Bounded: a fixed number of examples per operation and of stateful steps, so the whole file
runs in well under two minutes on the shared machine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django_tenants.utils import tenant_context
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from core.members.services import api_token_create
from tests.conftest import host_of

if TYPE_CHECKING:
    from schemathesis.specs.openapi.schemas import OpenApiSchema

    from core.members.models import Member
    from tenants.models import Network

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Hypothesis's own settings for this file: the data is the demo-like networks the fixture
# made for the whole test, so the function-scoped-fixture check does not apply.
BOUNDED = settings(
    deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


@pytest.fixture
def wsgi_app(db: None) -> Iterator[Any]:
    """Django's WSGI application on the test's database connection: as in Django's test
    client, finishing a request does not close it (the test's transaction lives on it)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield get_wsgi_application()
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def member_api(
    demo_like: dict[Network, list[Member]], network_a: Network, wsgi_app: Any
) -> tuple[OpenApiSchema, dict[str, Any]]:
    """The loaded schema and how to call it as an ordinary member of demo-like network A."""
    member = demo_like[network_a][1]
    with tenant_context(network_a):
        _, secret = api_token_create(actor=member, name="schemathesis")
    headers = {"Host": host_of(network_a), "Authorization": f"Bearer {secret}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", wsgi_app, headers=headers)
    return schema, {"base_url": f"http://{host_of(network_a)}", "headers": headers}


def _failure(label: str, group: FailureGroup, case: Any) -> str:
    """One paragraph per operation: what failed, shortly, and the request that showed it."""
    found = sorted(
        "  " + failure.title + ": " + failure.message.strip().partition("\n")[0]
        for failure in group.exceptions
    )
    request = f"  {case.method} {case.formatted_path} query={case.query} body={case.body!r}"
    return "\n".join([label, *found, request])


def test_every_operation_answers_as_its_schema_says(
    member_api: tuple[OpenApiSchema, dict[str, Any]],
) -> None:
    schema, call = member_api
    failures = []
    # An Err (an operation the schema cannot describe) has no ok(): the test fails here.
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 30  # the whole API, not an empty schema
    tried: list[Any] = []
    for operation in operations:
        for mode, examples in ((GenerationMode.POSITIVE, 12), (GenerationMode.NEGATIVE, 8)):
            tried.clear()

            @settings(BOUNDED, max_examples=examples)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                tried.append(case)
                case.call_and_validate(checks=CHECKS, **call)

            try:
                run()
            except FailureGroup as group:  # every operation's failures are reported together
                # Hypothesis replays the smallest failing example last.
                failures.append(_failure(f"{operation.label} ({mode})", group, tried[-1]))
            except Unsatisfiable:
                # No input that could be invalid (none at all, or free text only).
                if mode is GenerationMode.POSITIVE:
                    raise
    assert not failures, "\n\n".join(failures)


def test_chains_of_operations_answer_as_the_schema_says(
    member_api: tuple[OpenApiSchema, dict[str, Any]],
) -> None:
    schema, call = member_api

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return call

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(settings=settings(BOUNDED, max_examples=15, stateful_step_count=8))

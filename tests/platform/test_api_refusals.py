"""What the OpenAPI schema says of every operation's refusals and of list pages, and the
JSON answer for an API URL that does not exist."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from tests.conftest import NetworkClient

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.members.models import Member
    from tenants.models import Network


def _schema(client: NetworkClient) -> dict[str, Any]:
    return yaml.safe_load(client.get("/api/v1/schema/").content)


def test_list_endpoints_are_declared_as_the_pages_they_answer(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    paths = _schema(client_a)["paths"]
    for path in (
        "/api/v1/listings/",
        "/api/v1/exchanges/",
        "/api/v1/projects/",
        "/api/v1/notifications/",
    ):
        page = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert page["$ref"].startswith("#/components/schemas/Paginated"), path
    notifications = _schema(client_a)["components"]["schemas"]["PaginatedNotificationList"]
    assert {"count", "next", "previous", "results", "unread_count"} <= set(
        notifications["properties"]
    )


def test_every_operation_declares_its_refusals(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    for path, operations in _schema(client_a)["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "404"} <= codes, (method, path)
            signed_out = (
                "/api/v1/members/join/",
                "/api/v1/members/verify/",
                "/api/v1/accessibility/",
                "/api/v1/members/join/invited/",
                "/api/v1/cpd/records/{code}/verification/",
            )
            if path not in signed_out or (path, method) == ("/api/v1/accessibility/", "put"):
                assert "403" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert "415" in codes, (method, path)
            if method in ("post", "put", "patch", "delete"):
                assert "409" in codes, (method, path)  # refused by state, or Busy


def test_an_api_url_that_does_not_exist_answers_json(
    network_a: Network, make_member: Callable[..., Member], client_a: NetworkClient
) -> None:
    client_a.force_login(make_member(network_a))
    for url in ("/api/v1/listings/-1/", "/api/v1/nothing-here/"):
        response = client_a.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json()["detail"] in {"Not found.", "Page not found"}
    page = client_a.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")

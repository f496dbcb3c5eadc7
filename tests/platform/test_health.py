"""`/healthz` and `/readyz` answer on any host, before routing and the HTTPS redirect."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.test import Client, override_settings

from tenants.models import SchemaTemplate
from tests.conftest import host_of
from tests.servers import free_port

if TYPE_CHECKING:
    from tenants.models import Network

HOSTS = ["10.1.2.3:8000", "localhost", "no-such-network.localhost"]


@pytest.mark.parametrize("host", HOSTS)
@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_answers_on_any_host_without_a_redirect(host: str) -> None:
    response = Client(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True)
def test_readyz_answers_ready_on_any_host_including_a_network(network_a: Network) -> None:
    for host in [*HOSTS, host_of(network_a)]:
        response = Client(HTTP_HOST=host).get("/readyz")
        assert response.status_code == 200, (host, response.content)
        assert response.json() == {"ready": True, "database": "ok", "redis": "ok", "release": "ok"}
        assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_is_503_while_redis_is_unreachable() -> None:
    with override_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"):
        response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["redis"].startswith("unreachable")
    assert body["database"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_until_the_release_step_has_run_for_this_version() -> None:
    SchemaTemplate.objects.all().delete()  # as if `hexitime release` had not run yet
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "hexitime release" in response.json()["release"]

"""Tenant isolation of the plumbing every feature stands on: schemas, members, cache,
media and database connections."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django_tenants.utils import tenant_context

from core.members.models import Member
from kernel.db import connection
from tests.conftest import NetworkClient, host_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenants.models import Network


def _schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def test_networks_live_in_different_schemas(network_a: Network, network_b: Network) -> None:
    assert network_a.schema_name != network_b.schema_name
    assert {network_a.schema_name, network_b.schema_name} <= _schemas()


def test_a_member_of_one_network_is_invisible_in_the_other(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    alice = make_member(network_a, email="alice@nhs.net", full_name="Alice")
    with tenant_context(network_b):
        assert not Member.objects.filter(email="alice@nhs.net").exists()
        assert not Member.objects.filter(pk=alice.pk, email=alice.email).exists()
    with tenant_context(network_a):
        assert Member.objects.get(email="alice@nhs.net").full_name == "Alice"


def test_signing_in_to_one_network_does_not_sign_in_to_another(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    make_member(network_a, email="alice@nhs.net", password="a-long-passphrase")
    client = Client(HTTP_HOST=host_of(network_b))
    response = client.post(
        "/accounts/login/", {"username": "alice@nhs.net", "password": "a-long-passphrase"}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session


def test_platform_staff_are_not_members_of_any_network(network_a: Network) -> None:
    Member.objects.create_superuser("staff@hexitime.example", "pw", full_name="Staff")
    with tenant_context(network_a):
        assert not Member.objects.filter(email="staff@hexitime.example").exists()


def test_cache_keys_carry_the_schema(network_a: Network, network_b: Network) -> None:
    with tenant_context(network_a):
        cache.set("greeting", "hello from A")
        key = cache.make_key("greeting")
    with tenant_context(network_b):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from B")
    with tenant_context(network_a):
        assert cache.get("greeting") == "hello from A"
        cache.delete("greeting")
    with tenant_context(network_b):
        cache.delete("greeting")
    assert network_a.schema_name in key


def test_uploaded_media_is_stored_per_network(network_a: Network, network_b: Network) -> None:
    with tenant_context(network_a):
        name = default_storage.save("photos/me.txt", ContentFile(b"A's photo"))
        path_a = Path(default_storage.path(name))
    with tenant_context(network_b):
        assert not default_storage.exists(name)
    try:
        assert path_a.read_bytes() == b"A's photo"
        assert path_a.is_relative_to(Path(settings.MEDIA_ROOT) / network_a.schema_name)
    finally:
        path_a.unlink()


@pytest.mark.django_db(transaction=True)
def test_a_reused_connection_never_leaks_one_networks_search_path_into_another(
    network_a: Network, network_b: Network, make_member: Callable[..., Member]
) -> None:
    make_member(network_a, email="only-in-a@nhs.net", password="pw-for-a-member")
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    client_a, client_b = NetworkClient(network_a), NetworkClient(network_b)
    for _ in range(3):
        login = {"username": "only-in-a@nhs.net", "password": "pw-for-a-member"}
        assert client_b.post("/accounts/login/", login).status_code == 200
        assert client_a.post("/accounts/login/", login).status_code == 302
        client_a.logout()
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert network_a.schema_name not in cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_rolling_back_a_savepoint_does_not_leave_a_stale_search_path(
    network_a: Network, network_b: Network
) -> None:
    """django-tenants#1262: the SET inside a rolled-back savepoint is undone by PostgreSQL."""
    with transaction.atomic():
        connection.set_tenant(network_a)
        Member.objects.count()
        with pytest.raises(RuntimeError), transaction.atomic():
            connection.set_tenant(network_b)
            Member.objects.count()
            raise RuntimeError
        # PostgreSQL undid the SET; the connection must notice and set its path again.
        with connection.cursor() as cursor:
            cursor.execute("SHOW search_path")
            assert cursor.fetchone()[0].startswith(connection.schema_name)

"""django-tenants' backend, issuing `SET search_path` only when the path really changes.

django-tenants forgets the path it set whenever a schema is selected (`set_tenant()`), so
each request paid two `SET search_path`: one to `public` for the host lookup, one to the
network (django-tenants#594, #783; under load one took 9-27 ms). This wrapper remembers
the path the database session actually has (`applied_search_path`, forgotten on close,
rollback, savepoint rollback and whenever anyone clears `search_path_set_schemas` after
setting the path themselves) and skips the `SET` when the path asked for is that one.

`public_reads()` runs public-schema-only reads (the tenant middleware's host lookup) under
whatever path is applied, as long as it contains `public`: every path this project sets
ends with `public`, and no network schema has a table of a shared app's
(tests/platform/test_search_path.py checks both), so those reads resolve the same tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django_tenants.postgresql_backend import base
from django_tenants.utils import get_limit_set_calls, get_public_schema_name

if TYPE_CHECKING:
    from django_tenants.models import TenantMixin


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.applied_search_path: list[str] | None = None
        self._selecting = False
        super().__init__(*args, **kwargs)

    @property
    def search_path_set_schemas(self) -> list[str] | None:
        return self._search_path_set_schemas

    @search_path_set_schemas.setter
    def search_path_set_schemas(self, value: list[str] | None) -> None:
        self._search_path_set_schemas = value
        if value is not None:
            self.applied_search_path = value
        elif not self._selecting:
            # Cleared by a rollback, a close, or code that set the path itself: the session's
            # path is unknown now.
            self.applied_search_path = None

    def set_tenant(self, tenant: TenantMixin, include_public: bool = True) -> None:
        """Select a schema (no query); the next cursor sets the path unless it already is."""
        self._selecting = True
        try:
            super().set_tenant(tenant, include_public)
        finally:
            self._selecting = False
        applied = self.applied_search_path
        if (
            applied is not None
            and get_limit_set_calls()
            and applied == self._get_cursor_search_paths()
        ):
            self._search_path_set_schemas = applied

    @contextmanager
    def public_reads(self) -> Iterator[None]:
        """Run reads of public-schema tables only, without setting a path for them."""
        applied = self.applied_search_path
        if self._search_path_set_schemas or not applied or get_public_schema_name() not in applied:
            yield  # a path is set for the schema selected, or none is known to include public
            return
        self._search_path_set_schemas = applied
        try:
            yield
        finally:
            if self._search_path_set_schemas is applied:
                self._search_path_set_schemas = None

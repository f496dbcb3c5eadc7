"""The default connection, typed as what it is: django-tenants' schema-aware wrapper.

`django.db.connection` is typed as Django's base wrapper, which knows nothing of
`set_tenant()` or `schema_name`; import `connection` from here to have them checked.
"""

from typing import cast

from django.db import connection as _connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

connection = cast(DatabaseWrapper, _connection)

__all__ = ["connection"]

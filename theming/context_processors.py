from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django_tenants.utils import get_public_schema_name

from .selectors import theme_for


def theme(request: HttpRequest) -> dict[str, object]:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return {}
    return {"theme": SimpleLazyObject(lambda: theme_for(tenant))}

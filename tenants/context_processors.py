from __future__ import annotations

from django.http import HttpRequest
from django_tenants.utils import get_public_schema_name


def network(request: HttpRequest) -> dict[str, object]:
    """`network` is the current network, or None on the public site."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return {"network": None}
    return {"network": tenant}

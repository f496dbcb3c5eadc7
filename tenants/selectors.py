from __future__ import annotations

from django.db.models import QuerySet
from django_tenants.utils import get_public_schema_name

from .models import Network


def network_list() -> QuerySet[Network]:
    """Every network (never the public site's own row), with its primary domain."""
    return (
        Network.objects.exclude(schema_name=get_public_schema_name())
        .prefetch_related("domains")
        .order_by("name")
    )

from __future__ import annotations

from tenants.models import Network

from .models import Theme


def theme_for(network: Network) -> Theme:
    """The network's theme, or the default one (unsaved) if it has never been changed."""
    try:
        # Loaded with the network by the tenant middleware (tenants.middleware.get_tenant).
        return network.theme
    except Theme.DoesNotExist:
        return Theme(network=network)

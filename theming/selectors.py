from __future__ import annotations

from tenants.models import Network

from .models import Theme


def theme_for(network: Network) -> Theme:
    """The network's theme, or the default one (unsaved) if it has never been changed."""
    return Theme.objects.filter(network=network).first() or Theme(network=network)

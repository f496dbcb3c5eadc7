"""Where each model's table lives, declared on the model (as Sentry marks its silos).

django-tenants puts an app's tables in the public schema when the app is in
SHARED_APPS, in every network's schema when it is in TENANT_APPS, and in both when it is
in both (members and audit: platform staff sign in to the public site). Every model of
ours says which with one of the class decorators below; tests/platform/test_silos.py
checks each against the two lists, so a model added to the wrong app, or an app moved
between the lists, fails a test instead of a query in production.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

from django.db import models


class Silo(enum.Enum):
    PUBLIC = "public"  # the public schema: networks, domains, the federation ledger
    NETWORK = "network"  # each network's own schema


M = TypeVar("M", bound=type[models.Model])

SILO_ATTRIBUTE = "silos"


def _marker(*silos: Silo) -> Callable[[M], M]:
    def mark(model: M) -> M:
        setattr(model, SILO_ATTRIBUTE, frozenset(silos))
        return model

    return mark


public_model = _marker(Silo.PUBLIC)
"""The model's table is in the public schema only (its app is in SHARED_APPS)."""

network_model = _marker(Silo.NETWORK)
"""The model's table is in each network's schema only (its app is in TENANT_APPS)."""

public_and_network_model = _marker(Silo.PUBLIC, Silo.NETWORK)
"""The model's table is in the public schema and in each network's (its app is in both)."""


def model_silos(model: type[models.Model]) -> frozenset[Silo] | None:
    """The silos `model` itself declares (not one inherited from a base class), or None."""
    declared = vars(model).get(SILO_ATTRIBUTE)
    return declared if isinstance(declared, frozenset) else None

"""Every model of ours declares the schema its table lives in (kernel.silo), and the
declaration agrees with where django-tenants puts it: SHARED_APPS is the public schema,
TENANT_APPS each network's, both lists both. Other packages' models (Django's auth,
sessions, axes...) are checked by the app lists only."""

from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from hexitime.settings.env import REPO_ROOT
from kernel.silo import Silo, model_silos

ALL_MODELS = apps.get_models(include_auto_created=True)


def _ours(model: type[models.Model]) -> bool:
    path = Path(model._meta.app_config.path).resolve()
    return path.is_relative_to(REPO_ROOT.resolve()) and ".venv" not in path.parts


def _expected(app_name: str) -> frozenset[Silo]:
    return frozenset(
        silo
        for silo, names in (
            (Silo.PUBLIC, settings.SHARED_APPS),
            (Silo.NETWORK, settings.TENANT_APPS),
        )
        if app_name in names
    )


OURS = [m for m in ALL_MODELS if _ours(m) and not m._meta.auto_created]


def test_ours_are_found() -> None:
    labels = {m._meta.label for m in OURS}
    assert {"tenants.Network", "members.Member", "ledger.Entry", "federation.Membership"} <= labels


@pytest.mark.parametrize("model", OURS, ids=lambda m: m._meta.label)
def test_every_model_of_ours_declares_the_schema_it_lives_in(model: type[models.Model]) -> None:
    declared = model_silos(model)
    assert declared is not None, (
        f"{model._meta.label} declares no schema: decorate it with kernel.silo's "
        "public_model, network_model or public_and_network_model"
    )
    expected = _expected(model._meta.app_config.name)
    assert declared == expected, (
        f"{model._meta.label} is marked {sorted(s.value for s in declared)} but its app "
        f"{model._meta.app_config.name} puts it in {sorted(s.value for s in expected)}"
    )


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_in_an_app_of_the_two_lists(model: type[models.Model]) -> None:
    """Including the tables Django makes for many-to-many fields and other packages'."""
    assert _expected(model._meta.app_config.name), (
        f"{model._meta.label}'s app is in neither SHARED_APPS nor TENANT_APPS"
    )

"""Reading configuration from the environment, with one obvious place for each default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# The source checkout this module was imported from. An installed package (deploy/install.sh)
# has no checkout: there this is some folder of the Python installation, never written to.
REPO_ROOT = Path(__file__).resolve().parents[3]
IN_CHECKOUT = (REPO_ROOT / "pyproject.toml").is_file()


def settings_module_default() -> str:
    """The settings a process uses when DJANGO_SETTINGS_MODULE is unset: development in a
    checkout (`make run`), production for an installed package (deploy/install.sh)."""
    return "hexitime.settings.dev" if IN_CHECKOUT else "hexitime.settings.production"


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def data_dir() -> Path:
    """Where writable data lives: the embedded servers, local media, the beat schedule.

    `HEXITIME_HOME` when set (production sets it to a volume); otherwise `.hexitime/` in a
    checkout, and for an installed package the user's data folder
    (`$XDG_DATA_HOME/hexitime`, by default `~/.local/share/hexitime`), never the
    installation itself, which an unprivileged user cannot write."""
    if home := os.environ.get("HEXITIME_HOME"):
        return Path(home)
    if IN_CHECKOUT:
        return REPO_ROOT / ".hexitime"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "hexitime"


def database_from_url(url: str) -> dict[str, Any]:
    """Turn `postgresql://user:pass@host:port/name?host=/socket/dir` into a DATABASES entry."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(f"DATABASE_URL must be a postgresql:// URL, not {url!r}")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    options: dict[str, Any] = dict(query)
    return {
        "NAME": unquote(parts.path.lstrip("/")) or "hexitime",
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
    }

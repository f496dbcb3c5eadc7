"""Production settings pass Django's deployment checks and refuse a missing secret."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from typing import TYPE_CHECKING

from hexitime.settings.env import REPO_ROOT, database_from_url
from tests.conftest import streamed

if TYPE_CHECKING:
    from tests.conftest import NetworkClient


def _check_deploy(secret: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hexitime.settings.production",
        "DJANGO_SECRET_KEY": secret,
        "PYTHONPATH": f"{REPO_ROOT}:{REPO_ROOT / 'platform'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_settings_pass_check_deploy() -> None:
    result = _check_deploy(secrets.token_urlsafe(60))
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_a_short_secret() -> None:
    result = _check_deploy("short")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_database_url_with_a_unix_socket() -> None:
    parsed = database_from_url("postgresql://postgres@/hexitime?host=/run/pg%20data")
    assert (parsed["NAME"], parsed["HOST"], parsed["USER"]) == (
        "hexitime",
        "/run/pg data",
        "postgres",
    )
    tcp = database_from_url("postgres://u:p%40ss@db.internal:6432/hx?sslmode=require")
    assert (tcp["HOST"], tcp["PORT"], tcp["PASSWORD"]) == ("db.internal", "6432", "p@ss")
    assert tcp["OPTIONS"] == {"sslmode": "require"}


def test_the_api_schema_and_its_interactive_docs_are_served(client_a: NetworkClient) -> None:
    schema = client_a.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/ledger/balance/" in schema.content
    assert client_a.get("/api/docs/").status_code == 200


def test_the_interactive_docs_need_nothing_from_the_internet(client_a: NetworkClient) -> None:
    """Swagger UI's page, its script and its assets all come from this host: the docs
    work on a machine with no internet and under a CSP with no inline script."""
    page = client_a.get("/api/docs/")
    html = page.content.decode()
    assert "<script>" not in html  # the init script is a file of its own
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls, html
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in urls:
        response = client_a.get(url)
        assert response.status_code == 200, url
        body = streamed(response) if response.streaming else response.content
        assert body, url
    init = client_a.get(next(u for u in urls if "script" in u))
    assert init["Content-Type"].startswith("application/javascript")
    assert b"/api/v1/schema/" in init.content

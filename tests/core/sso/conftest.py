"""A real OpenID Connect provider (oidc_provider.py, pyop on Flask) in a process of its own
on a free port, and helpers to connect a network to it and walk the sign-in."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.test import Client
from django_tenants.utils import tenant_context

from core.members.models import Member
from core.sso.models import ProviderKind, SsoSettings
from core.sso.services import sso_settings_set
from tenants.models import Network
from tests.servers import free_port, wait_for_port


@dataclass
class Provider:
    issuer: str
    certificate: Path

    def control(self, **body: Any) -> None:
        request = urllib.request.Request(  # noqa: S310
            f"{self.issuer}/control",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        trusted = ssl.create_default_context(cafile=str(self.certificate))
        with urllib.request.urlopen(request, timeout=10, context=trusted) as answer:  # noqa: S310
            assert answer.status == 200

    def person(self, username: str, *, email: str, verified: bool = True, **claims: Any) -> None:
        self.control(
            users={
                username: {
                    "sub": f"sub-{username}",
                    "email": email,
                    "email_verified": verified,
                    "name": username.title(),
                    **claims,
                }
            }
        )

    def client(self, client_id: str, secret: str, redirect_uris: list[str]) -> None:
        self.control(clients={client_id: {"secret": secret, "redirect_uris": redirect_uris}})


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, which this test run alone trusts."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "provider.pem", folder / "provider.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    """The provider on https://127.0.0.1:<free port>. Its certificate is the one this
    process trusts for HTTPS through requests (REQUESTS_CA_BUNDLE) while it runs."""
    port = free_port()
    cert_path, key_path = _certificate(tmp_path_factory.mktemp("oidc"))
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("oidc_provider.py")),
            str(port),
            str(cert_path),
            str(key_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert_path)
    try:
        assert wait_for_port(port, 30), "the OpenID provider did not start"
        yield Provider(issuer=f"https://127.0.0.1:{port}", certificate=cert_path)
    finally:
        if before is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def provider(oidc_provider: Provider) -> Iterator[Provider]:
    """The provider, its id tokens good again after each test."""
    yield oidc_provider
    oidc_provider.control(id_token="good")


def connect(
    network: Network,
    provider: Provider,
    organiser: Member,
    *,
    client_id: str,
    password_sign_in: bool = True,
    callback_host: str | None = None,
) -> SsoSettings:
    """Register `network` at the provider (as its administrator would) and connect it (as
    its organiser would)."""
    from tests.conftest import host_of

    host = callback_host or host_of(network)
    provider.client(
        client_id, f"secret-of-{client_id}-0123456789", [f"http://{host}/sso/callback/"]
    )
    with tenant_context(network):
        return sso_settings_set(
            actor=organiser,
            kind=ProviderKind.OIDC,
            name="Test ID",
            issuer=provider.issuer,
            client_id=client_id,
            client_secret=f"secret-of-{client_id}-0123456789",
            password_sign_in=password_sign_in,
        )


def provider_signs_in(client: Client, username: str) -> tuple[str, dict[str, str]]:
    """Start at the network's /sso/start/, sign in at the provider as `username`; return
    the callback URL's path and query (not yet followed) and the authorisation request."""
    start = client.get("/sso/start/")
    assert start.status_code == 302, start.content.decode()
    authorize_url = start["Location"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize_url).query))
    answer = requests.post(
        authorize_url, data={"username": username}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 302, answer.text
    callback = urllib.parse.urlsplit(answer.headers["Location"])
    return f"{callback.path}?{callback.query}", query

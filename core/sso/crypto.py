"""The client secret at rest: Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`)
under a key derived from SECRET_KEY with HKDF. The network's schema name is in the key's
derivation, so a row copied into another network's schema does not decrypt there."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from kernel.db import connection


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"hexitime.sso.client_secret:{connection.schema_name}".encode(),
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str | None:
    """The secret, or None when it cannot be decrypted (SECRET_KEY changed since it was
    saved): the organiser is asked to enter it again."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None

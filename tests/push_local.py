"""A local stand-in for a browser's push service (RFC 8030), and a browser's push keys.

The server takes the POST a push service would, checks it the way one does (the VAPID
JWT, RFC 8292: signed with the key it names, for this origin, not expired) and keeps the
message; `Browser` holds the private half of a subscription's keys and decrypts what
arrived (RFC 8291, aes128gcm), so a test proves a real, correctly encrypted message was
sent. Paths can be told to answer as a push service does for a subscription that is gone.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from core.notifications.push import b64url_decode, b64url_encode


@dataclass
class Browser:
    """The keys a browser makes for one push subscription."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def keys(self) -> dict[str, str]:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64url_encode(point), "auth": b64url_encode(self.auth)}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return json.loads(plain)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    claims: dict[str, Any]
    vapid_key: str


def vapid_verify(authorization: str, *, origin: str) -> tuple[dict[str, Any], str]:
    """The claims and public key of a `vapid t=<JWT>, k=<key>` header, after checking the
    JWT's ES256 signature with that key, its audience and its expiry; AssertionError if
    any check fails."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = parts["t"], parts["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(b64url_decode(header_b64))
    assert header["alg"] == "ES256", header
    signature = b64url_decode(signature_b64)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    try:
        public.verify(
            encode_dss_signature(r, s),
            f"{header_b64}.{claims_b64}".encode(),
            ec.ECDSA(hashes.SHA256()),
        )
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify") from None
    claims = json.loads(b64url_decode(claims_b64))
    assert claims["aud"] == origin, claims
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
    assert claims["sub"].startswith(("mailto:", "https:")), claims
    return claims, key


class PushService:
    """A threaded HTTP server on 127.0.0.1 that receives Web Push messages."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.rejected: list[str] = []
        self.gone: set[str] = set()
        self._arrived = threading.Condition()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path in service.gone:
                    self.send_response(410)
                    self.end_headers()
                    return
                try:
                    assert self.headers["Content-Encoding"] == "aes128gcm", self.headers
                    assert int(self.headers["TTL"]) > 0, self.headers
                    claims, key = vapid_verify(
                        self.headers.get("Authorization", ""), origin=service.origin
                    )
                except (AssertionError, KeyError, ValueError) as refused:
                    service.rejected.append(f"{self.path}: {refused}")
                    self.send_response(403)
                    self.end_headers()
                    return
                with service._arrived:
                    service.received.append(
                        Received(self.path, dict(self.headers), body, claims, key)
                    )
                    service._arrived.notify_all()
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def endpoint(self, name: str) -> str:
        return f"{self.origin}/push/{name}"

    def wait_for(self, count: int, seconds: float = 20) -> list[Received]:
        with self._arrived:
            self._arrived.wait_for(lambda: len(self.received) >= count, timeout=seconds)
        return list(self.received)

    def __enter__(self) -> PushService:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

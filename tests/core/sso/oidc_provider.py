"""A real OpenID Connect provider for the single sign-on tests: pyop's provider (the
protocol: authorisation codes, PKCE, client authentication, signed id tokens) behind a
small Flask app, run in a process of its own by `oidc_provider` (conftest.py).

It stands in for the outside world (an organisation's Entra ID or Google Workspace), so the
tests steer it as its administrator would, through /control: which clients are registered,
which people exist, and — to test the client's checks — whether the id tokens it hands out
are signed with a key it does not publish, or carry the wrong audience.

It serves HTTPS (as every real provider does, and as our client requires) with the
certificate and key the fixture made for 127.0.0.1.

Run: python oidc_provider.py <port> <certificate.pem> <key.pem>
"""

from __future__ import annotations

import json
import sys
from typing import Any
from urllib.parse import urlencode

from Cryptodome.PublicKey import RSA
from flask import Flask, Response, jsonify, redirect, request
from jwkest import jws
from jwkest.jwk import RSAKey
from markupsafe import escape
from pyop.authz_state import AuthorizationState
from pyop.exceptions import InvalidAuthenticationRequest, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo
from werkzeug.wrappers import Response as ResponseBase

port = int(sys.argv[1])
issuer = f"https://127.0.0.1:{port}"
signing_key = RSAKey(key=RSA.generate(2048), alg="RS256", kid="published")
# Never published: a token signed with it must be refused.
unpublished_key = RSAKey(key=RSA.generate(2048), alg="RS256", kid="published")

clients: dict[str, dict[str, Any]] = {}
users: dict[str, dict[str, Any]] = {}
mode = {"id_token": "good"}

provider = Provider(
    signing_key,
    {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "scopes_supported": ["openid", "email", "profile"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    },
    AuthorizationState(HashBasedSubjectIdentifierFactory("test-salt")),
    clients,
    Userinfo(users),
)

app = Flask(__name__)


@app.get("/.well-known/openid-configuration")
def discovery() -> Response:
    return jsonify(provider.provider_configuration.to_dict())


@app.get("/jwks")
def jwks() -> Response:
    return jsonify(provider.jwks)


@app.post("/control")
def control() -> Response:
    """Register a client, add people, choose how id tokens come out."""
    body = request.get_json()
    for client_id, client in body.get("clients", {}).items():
        clients[client_id] = {
            "client_secret": client["secret"],
            "redirect_uris": client["redirect_uris"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "client_secret_basic",
        }
    users.update(body.get("users", {}))
    if "id_token" in body:
        mode["id_token"] = body["id_token"]
    return jsonify({"ok": True})


@app.get("/authorize")
def authorize_form() -> str:
    """The provider's own sign-in page: the person types their user name."""
    return (
        "<!doctype html><html lang='en'><title>Test provider</title><main>"
        "<h1>Test identity provider</h1>"
        f"<form method='post' action='/authorize?{escape(request.query_string.decode())}'>"
        "<label for='username'>User name</label> <input id='username' name='username'>"
        "<button type='submit'>Continue</button></form></main></html>"
    )


@app.post("/authorize")
def authorize() -> ResponseBase:
    try:
        authn_request = provider.parse_authentication_request(
            urlencode(request.args), request.headers
        )
    except InvalidAuthenticationRequest as refused:
        return Response(f"refused: {refused}", status=400)
    username = request.form["username"]
    if username not in users:
        return Response("no such person", status=403)
    response = provider.authorize(authn_request, username)
    return redirect(response.request(authn_request["redirect_uri"], False))


def _person_claims(username: str, client_id: str) -> dict[str, Any]:
    # In the id token, as Google and Entra ID put them: email, email_verified, name.
    return {key: value for key, value in users[username].items() if key != "sub"}


def _tamper(id_token: str) -> str:
    claims = json.loads(jws.factory(id_token).jwt.part[1])
    if mode["id_token"] == "bad_signature":
        return jws.JWS(json.dumps(claims), alg="RS256").sign_compact([unpublished_key])
    if mode["id_token"] == "wrong_audience":
        claims["aud"] = "someone-else"
        return jws.JWS(json.dumps(claims), alg="RS256").sign_compact([signing_key])
    return id_token


@app.post("/token")
def token() -> Response:
    try:
        answer = provider.handle_token_request(
            request.get_data().decode(), request.headers, extra_id_token_claims=_person_claims
        ).to_dict()
    except OAuthError as refused:
        return Response(
            json.dumps({"error": refused.oauth_error, "error_description": str(refused)}),
            status=400,
            content_type="application/json",
        )
    answer["id_token"] = _tamper(answer["id_token"])
    return jsonify(answer)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=port, threaded=True, ssl_context=(sys.argv[2], sys.argv[3]))

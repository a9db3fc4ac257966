"""Services accept an identity provider's tokens through its JWKS, beside `serambi token`'s
development tokens outside production; roles come from the ``roles`` claim."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from serambi_kit.auth import DEV_ISSUER, AuthError, TokenVerifier, issue_dev_token, roles_of
from serambi_kit.settings import DEV_SIGNING_KEY, ServiceSettings

ISSUER = "https://sso.example.go.id/realms/serambi"
REAL_KEY = "bXktdmVyeS1vd24tMzItYnl0ZS1tYXN0ZXIta2V5ISE="
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 — http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/certs"
    server.shutdown()
    server.server_close()


def provider_token(**overrides: object) -> str:
    now = int(time.time())
    claims = {
        "sub": "f3a1",
        "preferred_username": "aduan",
        "roles": ["complaint_officer"],
        "iss": ISSUER,
        "aud": "serambi",
        "iat": now,
        "exp": now + 300,
        **overrides,
    }
    return jwt.encode(claims, PRIVATE, algorithm="RS256", headers={"kid": "k1"})


def test_a_provider_token_is_accepted_through_the_jwks_with_its_roles(jwks_url):
    verifier = TokenVerifier(ServiceSettings(auth_jwks_url=jwks_url, auth_issuer=ISSUER))
    officer = verifier.verify(provider_token())
    assert (officer.subject, officer.name, officer.roles) == ("f3a1", "aduan", {"complaint_officer"})


@pytest.mark.parametrize(
    "claims", [{"iss": "https://elsewhere"}, {"aud": "account"}, {"exp": int(time.time()) - 10}]
)
def test_a_provider_token_from_another_issuer_audience_or_time_is_refused(jwks_url, claims):
    verifier = TokenVerifier(ServiceSettings(auth_jwks_url=jwks_url, auth_issuer=ISSUER))
    with pytest.raises(AuthError):
        verifier.verify(provider_token(**claims))


def test_development_tokens_keep_working_beside_the_provider_outside_production(jwks_url):
    settings = ServiceSettings(auth_jwks_url=jwks_url, auth_issuer=ISSUER)
    token = issue_dev_token(settings, ["desk"])
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == DEV_ISSUER
    assert TokenVerifier(settings).verify(token).roles == frozenset({"desk"})


def test_production_refuses_a_token_signed_with_the_development_key(jwks_url):
    settings = ServiceSettings(
        environment="production",
        auth_jwks_url=jwks_url.replace("127.0.0.1", "sso.example.go.id"),
        auth_issuer=ISSUER,
        pii_master_key=REAL_KEY,
    )
    now = int(time.time())
    forged = jwt.encode(
        {"sub": "x", "roles": ["admin"], "iss": DEV_ISSUER, "aud": "serambi", "iat": now, "exp": now + 60},
        DEV_SIGNING_KEY,
        algorithm="HS256",
    )
    with pytest.raises(AuthError, match="refused in production"):
        TokenVerifier(settings).verify(forged)


def test_a_token_claiming_hs256_is_never_checked_against_the_providers_key(jwks_url):
    public_pem = PRIVATE.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
    payload = jwt.utils.base64url_encode(
        json.dumps(
            {"sub": "x", "roles": ["admin"], "iss": ISSUER, "aud": "serambi", "iat": now, "exp": now + 60}
        ).encode()
    )
    signature = jwt.utils.base64url_encode(
        hmac.new(public_pem, header + b"." + payload, hashlib.sha256).digest()
    )
    verifier = TokenVerifier(ServiceSettings(auth_jwks_url=jwks_url, auth_issuer=ISSUER))
    with pytest.raises(AuthError):
        verifier.verify((header + b"." + payload + b"." + signature).decode())


@pytest.mark.parametrize(
    ("claims", "roles"),
    [
        ({"roles": ["desk", "offline_access", "scheduler"]}, {"desk", "scheduler"}),
        ({"realm_access": {"roles": ["supervisor", "uma_authorization"]}}, {"supervisor"}),
        ({"roles": "admin complaint_team"}, {"admin", "complaint_team"}),
        ({"roles": {"desk": True}}, set()),
        ({}, set()),
    ],
)
def test_roles_come_from_the_roles_claim_and_unknown_names_are_dropped(claims, roles):
    assert roles_of(claims) == roles

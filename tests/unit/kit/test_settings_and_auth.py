"""Production refuses development secrets; tokens are verified strictly."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import ValidationError
from serambi_kit.auth import AuthError, TokenVerifier, issue_dev_token
from serambi_kit.settings import DEV_SIGNING_KEY, ServiceSettings

REAL_KEY = "bXktdmVyeS1vd24tMzItYnl0ZS1tYXN0ZXIta2V5ISE="


def test_development_gets_the_development_signing_key_without_configuration():
    assert ServiceSettings().auth_dev_signing_key.get_secret_value() == DEV_SIGNING_KEY


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "auth_dev_signing_key": DEV_SIGNING_KEY,
                "auth_jwks_url": "https://sso/certs",
                "pii_master_key": REAL_KEY,
            },
            "SERAMBI_AUTH_DEV_SIGNING_KEY must be unset",
        ),
        ({"pii_master_key": REAL_KEY}, "SERAMBI_AUTH_JWKS_URL is required"),
        ({"auth_jwks_url": "https://sso/certs"}, "SERAMBI_PII_MASTER_KEY must be set"),
    ],
)
def test_production_refuses_to_start_with_development_secrets(overrides, message):
    with pytest.raises(ValidationError, match=message):
        ServiceSettings(environment="production", **overrides)


def test_a_production_configuration_is_possible():
    settings = ServiceSettings(
        environment="production", auth_jwks_url="https://sso/certs", pii_master_key=REAL_KEY
    )
    assert settings.auth_dev_signing_key is None


def test_development_tokens_are_refused_in_production():
    settings = ServiceSettings(
        environment="production", auth_jwks_url="https://sso/certs", pii_master_key=REAL_KEY
    )
    with pytest.raises(AuthError, match="disabled in production"):
        issue_dev_token(settings, ["desk"])


def test_unknown_roles_are_refused_when_issuing():
    with pytest.raises(AuthError, match="unknown role"):
        issue_dev_token(ServiceSettings(), ["janitor"])


@pytest.mark.parametrize("tamper", ["expired", "issuer", "audience", "signature", "unsigned"])
def test_tampered_expired_or_foreign_tokens_are_refused(tamper):
    settings = ServiceSettings()
    verifier = TokenVerifier(settings)
    now = int(time.time())
    claims = {
        "sub": "u",
        "roles": ["desk"],
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + 60,
    }
    key = settings.auth_dev_signing_key.get_secret_value()
    if tamper == "expired":
        claims.update(iat=now - 120, exp=now - 60)
    elif tamper == "issuer":
        claims["iss"] = "someone-else"
    elif tamper == "audience":
        claims["aud"] = "other-app"
    elif tamper == "signature":
        key = "not-the-key-" * 4
    token = (
        jwt.encode(claims, key, algorithm="HS256")
        if tamper != "unsigned"
        else jwt.encode(claims, None, algorithm="none")
    )
    with pytest.raises(AuthError):
        verifier.verify(token)
    assert verifier.verify(issue_dev_token(settings, ["desk"])).roles == frozenset({"desk"})

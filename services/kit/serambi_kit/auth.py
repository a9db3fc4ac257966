"""Officer authentication: bearer JWTs from the identity provider (JWKS), with roles.

In production tokens are verified against ``SERAMBI_AUTH_JWKS_URL`` (e.g. Keycloak's
``/protocol/openid-connect/certs``), issuer and audience. In development a shared signing key
(HS256) lets ``serambi token --role ROLE`` mint tokens; settings refuse it in production.
Roles come from the ``roles`` claim or Keycloak's ``realm_access.roles``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .settings import ServiceSettings

ROLES = ("desk", "scheduler", "complaint_officer", "complaint_team", "supervisor", "admin")


class AuthError(Exception):
    """A token that is missing, malformed, expired, forged or from the wrong issuer."""


@dataclass(frozen=True, slots=True)
class Officer:
    subject: str
    name: str | None
    roles: frozenset[str]


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.auth_audience
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url) if settings.auth_jwks_url else None
        key = settings.auth_dev_signing_key
        self._dev_key = key.get_secret_value() if key and not self._jwks else None

    def verify(self, token: str) -> Officer:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256", "PS256"]
            elif self._dev_key is not None:
                key, algorithms = self._dev_key, ["HS256"]
            else:
                raise AuthError("no token verification configured")
            claims = jwt.decode(
                token, key, algorithms=algorithms, audience=self.audience, issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthError(str(exc)) from exc
        roles = claims.get("roles") or claims.get("realm_access", {}).get("roles") or []
        return Officer(claims["sub"], claims.get("name"), frozenset(r for r in roles if r in ROLES))


def issue_dev_token(
    settings: ServiceSettings, roles: list[str], subject: str = "dev-officer",
    ttl_seconds: int = 8 * 3600, now: float | None = None,
) -> str:
    """A development token; refused in production and for unknown roles."""
    if settings.environment == "production" or settings.auth_dev_signing_key is None:
        raise AuthError("development tokens are disabled in production")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise AuthError(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}")
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": subject, "name": subject, "roles": roles, "iss": settings.auth_issuer,
        "aud": settings.auth_audience, "iat": issued, "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, settings.auth_dev_signing_key.get_secret_value(), algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


def require_roles(*roles: str) -> Callable[..., Officer]:
    """A FastAPI dependency: 401 without a valid token, 403 without one of ``roles``."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Officer:
        unauthorized = HTTPException(
            status.HTTP_401_UNAUTHORIZED, "authentication required",
            headers={"WWW-Authenticate": "Bearer"},
        )
        if credentials is None:
            raise unauthorized
        try:
            officer = request.app.state.token_verifier.verify(credentials.credentials)
        except AuthError:
            raise unauthorized from None
        if not officer.roles & set(roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires role: {' or '.join(roles)}")
        return officer

    dependency.roles = roles  # type: ignore[attr-defined]  # read by the role-matrix test
    return dependency

"""Officer authentication: bearer JWTs from the identity provider (JWKS), with roles.

Tokens signed with a provider's key (RS256, ES256, PS256) are verified against
``SERAMBI_AUTH_JWKS_URL`` (Keycloak's ``/protocol/openid-connect/certs`` in production, the
development provider's ``/jwks`` under ``serambi dev up``), ``SERAMBI_AUTH_ISSUER`` and
``SERAMBI_AUTH_AUDIENCE``. Outside production a shared development key (HS256, issuer
``serambi-dev``) also lets ``serambi token --role ROLE`` mint tokens for scripts, beside the
provider's; production refuses the key in settings and here. Each token is checked by the kind
of key its header names, so a provider token is never checked against the shared key.
Roles come from the ``roles`` claim or Keycloak's ``realm_access.roles`` (``roles_of``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from .settings import DEV_SIGNING_KEY, ServiceSettings
from .state import kit_state

ROLES = ("desk", "scheduler", "complaint_officer", "complaint_team", "supervisor", "admin")
DEV_ISSUER = "serambi-dev"  # the issuer of `serambi token`'s development tokens
PROVIDER_ALGORITHMS = ["RS256", "ES256", "PS256"]


class AuthError(Exception):
    """A token that is missing, malformed, expired, forged or from the wrong issuer."""


@dataclass(frozen=True, slots=True)
class Officer:
    subject: str
    name: str | None
    roles: frozenset[str]


def roles_of(claims: dict[str, Any]) -> frozenset[str]:
    """Serambi's roles in a token's claims: ``roles`` (the claim Serambi's realm maps realm roles
    to, and the development provider's), else Keycloak's ``realm_access.roles``; other names
    are ignored."""
    roles = claims.get("roles")
    if not roles:
        realm = claims.get("realm_access")
        roles = realm.get("roles") if isinstance(realm, dict) else None
    if isinstance(roles, str):
        roles = roles.split()
    if not isinstance(roles, list):
        return frozenset()
    return frozenset(role for role in roles if role in ROLES)


def dev_signing_key(settings: ServiceSettings) -> str | None:
    """The shared development key: the configured one, else the public default; never in production."""
    if settings.environment == "production":
        return None
    key = settings.auth_dev_signing_key
    return key.get_secret_value() if key else DEV_SIGNING_KEY


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self.issuer = settings.auth_issuer
        self.audience = settings.auth_audience
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url) if settings.auth_jwks_url else None
        self._dev_key = dev_signing_key(settings)

    def verify(self, token: str) -> Officer:
        try:
            if jwt.get_unverified_header(token).get("alg") == "HS256":
                if self._dev_key is None:
                    raise AuthError("development tokens are refused in production")
                key: Any = self._dev_key
                algorithms, issuer = ["HS256"], DEV_ISSUER
            elif self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                algorithms, issuer = PROVIDER_ALGORITHMS, self.issuer
            else:
                raise AuthError("no identity provider configured (SERAMBI_AUTH_JWKS_URL)")
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.audience,
                issuer=issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise AuthError(str(exc)) from exc
        return Officer(
            claims["sub"], claims.get("name") or claims.get("preferred_username"), roles_of(claims)
        )


def issue_dev_token(
    settings: ServiceSettings,
    roles: list[str],
    subject: str = "dev-officer",
    ttl_seconds: int = 8 * 3600,
    now: float | None = None,
) -> str:
    """A development token; refused in production and for unknown roles."""
    key = dev_signing_key(settings)
    if key is None:
        raise AuthError("development tokens are disabled in production")
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise AuthError(f"unknown role(s) {unknown}; known: {', '.join(ROLES)}")
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": subject,
        "name": subject,
        "roles": roles,
        "iss": DEV_ISSUER,
        "aud": settings.auth_audience,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    return jwt.encode(claims, key, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)
VERIFIED = "serambi.officers"  # request scope: token → Officer, verified once per request


def _unauthorized() -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, "authentication required", headers={"WWW-Authenticate": "Bearer"}
    )


def _verifier(request: Request) -> TokenVerifier:
    verifier = kit_state(request).token_verifier
    if verifier is None:
        raise RuntimeError("this app checks no officers' tokens (its KitState has no token_verifier)")
    return verifier


def _officer(request: Request, token: str | None, roles: tuple[str, ...]) -> Officer:
    """The token's officer if it holds one of ``roles``: 401 without a valid token, 403 without
    the role. A token is verified once per request (before the body, then as a dependency)."""
    if not token:
        raise _unauthorized()
    verified: dict[str, Officer] = request.scope.setdefault(VERIFIED, {})
    officer = verified.get(token)
    if officer is None:
        try:
            officer = _verifier(request).verify(token)
        except AuthError:
            raise _unauthorized() from None
        verified[token] = officer
    if not officer.roles & set(roles):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"requires role: {' or '.join(roles)}")
    return officer


def require_roles(*roles: str) -> Callable[..., Officer]:
    """A FastAPI dependency: 401 without a valid token, 403 without one of ``roles``.

    On a ``ChecksFirstRoute`` (``serambi_kit.bodylimit``) the check also runs before the body
    is read, so an upload from someone who may not make it is refused unread."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Officer:
        return _officer(request, credentials.credentials if credentials else None, roles)

    async def before_body(request: Request) -> None:
        scheme, param = get_authorization_scheme_param(request.headers.get("authorization"))
        token = param if scheme.lower() == "bearer" else None
        if token and token in request.scope.get(VERIFIED, {}):
            _officer(request, token, roles)
        else:  # the JWKS may be fetched: not on the event loop
            await run_in_threadpool(_officer, request, token, roles)

    dependency.roles = roles  # type: ignore[attr-defined]  # read by the role-matrix test
    dependency.before_body = before_body  # type: ignore[attr-defined]  # run by ChecksFirstRoute
    return dependency

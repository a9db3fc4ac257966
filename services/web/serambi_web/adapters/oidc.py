"""The console's OpenID Connect client: authorization code flow with PKCE (authlib).

The provider is found through its discovery document; ID tokens and access tokens are checked
against its JWKS (PyJWT, as the services do): the ID token's issuer, audience (our client) and
nonce; the access token's issuer and audience (``serambi``) — its ``roles`` claim is what the
services will read, so the console reads the same claim the same way (``serambi_kit.auth``).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from authlib.common.security import generate_token
from serambi_kit.auth import PROVIDER_ALGORITHMS
from serambi_kit.logging import get_logger

with warnings.catch_warnings():  # authlib would rather have httpx2; httpx is what the project uses
    warnings.simplefilter("ignore")
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

from ..settings import ConsoleSettings
from .backend import BackendUnavailable

JWKS_REFRESH_SECONDS = 30  # an unknown key id re-reads the JWKS at most this often
REFRESH_KEPT_SECONDS = 60  # a refresh's tokens, for the same session's other requests
REVOKE_SECONDS = 3.0  # sign-out's revocation of the refresh token: best effort
log = get_logger(__name__)


class SignInFailed(Exception):
    """The provider refused the code or the refresh, or a token did not verify."""


@dataclass(frozen=True)
class Pending:
    state: str
    verifier: str
    nonce: str
    next: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    access_expires: float
    refresh_token: str | None
    id_token: str | None
    claims: dict[str, Any]  # the verified access token's


class Provider:
    def __init__(self, settings: ConsoleSettings, http: httpx.AsyncClient) -> None:
        self.settings, self.http = settings, http
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_read = 0.0
        #: refresh-token hash → (when, the refresh under way or just done): ``refresh_once``
        self._refreshes: dict[str, tuple[float, asyncio.Future[Tokens]]] = {}

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self.http.get(url)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BackendUnavailable("identity provider", type(exc).__name__) from exc

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            found = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            if found.get("issuer", "").rstrip("/") != self.issuer:
                raise BackendUnavailable("identity provider", "discovery names another issuer")
            self._metadata = found
        return self._metadata

    def _client(self, redirect_uri: str | None = None) -> AsyncOAuth2Client:
        return AsyncOAuth2Client(
            self.settings.oidc_client_id,
            self.settings.oidc_client_secret.get_secret_value(),
            scope=self.settings.oidc_scope,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.http.timeout,
        )

    async def start(self, redirect_uri: str, next_path: str) -> tuple[str, Pending]:
        """The provider's authorization URL and what the callback must find again."""
        authorize = (await self.metadata())["authorization_endpoint"]
        pending = Pending(generate_token(32), generate_token(64), generate_token(32), next_path)
        async with self._client(redirect_uri) as client:
            url, _ = client.create_authorization_url(
                authorize, state=pending.state, code_verifier=pending.verifier, nonce=pending.nonce
            )
        return url, pending

    async def finish(self, code: str, pending: Pending, redirect_uri: str) -> Tokens:
        """Exchange the code (with the PKCE verifier); check the ID token's nonce."""
        token_endpoint = (await self.metadata())["token_endpoint"]
        try:
            async with self._client(redirect_uri) as client:
                token = await client.fetch_token(token_endpoint, code=code, code_verifier=pending.verifier)
        except (OAuthError, httpx.HTTPError) as exc:
            raise SignInFailed(f"code exchange: {type(exc).__name__}") from exc
        tokens = await self._tokens(token, None)
        if not tokens.id_token:
            raise SignInFailed("no ID token")
        claims = await self.verify(tokens.id_token, self.settings.oidc_client_id)
        if claims.get("nonce") != pending.nonce:
            raise SignInFailed("ID token nonce does not match")
        if claims.get("sub") != tokens.claims.get("sub"):
            raise SignInFailed("ID token and access token name different officers")
        return tokens

    async def refresh_once(self, refresh_token: str, id_token: str | None) -> Tokens:
        """``refresh``, once per refresh token in this process: concurrent requests of one
        session (the provider rotates the token and refuses it a second time) await the same
        answer, kept ``REFRESH_KEPT_SECONDS`` for a request that still carried the old cookie; a
        failure is not kept."""
        key = hashlib.sha256(refresh_token.encode()).hexdigest()
        now = time.monotonic()
        for old, (started, _) in list(self._refreshes.items()):
            if now - started > REFRESH_KEPT_SECONDS:
                del self._refreshes[old]
        if key not in self._refreshes:
            task = asyncio.ensure_future(self.refresh(refresh_token, id_token))

            def forget_failure(done: asyncio.Future[Tokens], key: str = key) -> None:
                if done.cancelled() or done.exception() is not None:
                    self._refreshes.pop(key, None)

            task.add_done_callback(forget_failure)
            self._refreshes[key] = (now, task)
        return await asyncio.shield(self._refreshes[key][1])

    def forget(self, refresh_token: str) -> list[str]:
        """At sign-out: drop every kept refresh of this session — the one made with
        ``refresh_token`` and the one that gave it — so that an older copy of the cookie gets no
        tokens from the cache; returns the other refresh tokens they hold, to be revoked too."""
        key = hashlib.sha256(refresh_token.encode()).hexdigest()
        others: list[str] = []
        for kept, (_, task) in list(self._refreshes.items()):
            result = (
                task.result() if task.done() and not task.cancelled() and task.exception() is None else None
            )
            if kept == key or (result is not None and result.refresh_token == refresh_token):
                del self._refreshes[kept]
                if result is not None and result.refresh_token and result.refresh_token != refresh_token:
                    others.append(result.refresh_token)
        return others

    async def refresh(self, refresh_token: str, id_token: str | None) -> Tokens:
        """New tokens; SignInFailed when the provider refuses the refresh token (its OAuth error,
        e.g. 400 ``invalid_grant``), BackendUnavailable when it cannot answer (no connection, a
        timeout, 5xx, an answer that is not a token response): the session outlives an outage."""
        token_endpoint = (await self.metadata())["token_endpoint"]
        try:
            async with self._client() as client:
                token = await client.refresh_token(token_endpoint, refresh_token=refresh_token)
        except OAuthError as exc:
            raise SignInFailed(f"refresh: {exc.error}") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise BackendUnavailable("identity provider", f"refresh: {type(exc).__name__}") from exc
        return await self._tokens(token, id_token)

    async def _tokens(self, token: dict[str, Any], id_token: str | None) -> Tokens:
        access = token.get("access_token")
        if not isinstance(access, str):
            raise SignInFailed("no access token")
        claims = await self.verify(access, self.settings.auth_audience)
        return Tokens(
            access,
            float(claims["exp"]),
            token.get("refresh_token"),
            token.get("id_token") or id_token,
            claims,
        )

    async def verify(self, token: str, audience: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = await self._key(kid)
            return jwt.decode(
                token,
                key,
                algorithms=PROVIDER_ALGORITHMS,
                audience=audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise SignInFailed(f"token: {exc}") from exc

    async def _key(self, kid: str | None) -> jwt.PyJWK:
        if kid not in self._keys and time.monotonic() - self._keys_read > JWKS_REFRESH_SECONDS:
            found = await self._get_json((await self.metadata())["jwks_uri"])
            self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(found).keys}
            self._keys_read = time.monotonic()
        if kid not in self._keys:
            raise SignInFailed("unknown signing key")
        return self._keys[kid]

    async def revoke(self, refresh_token: str) -> None:
        """Revokes ``refresh_token`` at the provider's ``revocation_endpoint`` (RFC 7009), if
        discovery lists one: best effort, within ``REVOKE_SECONDS`` — sign-out never waits on
        it, nor fails for it."""
        try:
            endpoint = (await self.metadata()).get("revocation_endpoint")
            if not endpoint:
                return
            response = await self.http.post(
                endpoint,
                data={"token": refresh_token, "token_type_hint": "refresh_token"},
                auth=(self.settings.oidc_client_id, self.settings.oidc_client_secret.get_secret_value()),
                timeout=REVOKE_SECONDS,
            )
            response.raise_for_status()
        except (BackendUnavailable, httpx.HTTPError) as exc:
            log.warning("console.revoke_failed", reason=type(exc).__name__)

    async def end_session_url(self, id_token: str | None, return_to: str) -> str | None:
        """Where the browser ends its session at the provider (RP-initiated logout)."""
        endpoint = (await self.metadata()).get("end_session_endpoint")
        if not endpoint:
            return None
        query = {"client_id": self.settings.oidc_client_id, "post_logout_redirect_uri": return_to}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"

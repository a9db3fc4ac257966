"""The development OpenID provider: authlib's authorization server on Flask.

What a relying party sees is what Keycloak gives it: discovery, the authorization code flow
with PKCE (S256, required), a confidential client, RS256 ID tokens, RFC 9068 JWT access tokens
for the audience ``serambi`` with a ``roles`` claim, refresh tokens, userinfo, JWKS,
token revocation (RFC 7009), and RP-initiated logout that ends the provider's own session and
the officer's refresh tokens. Sign-in is a username and password
form (``accounts.py``); a signed-in browser is not asked again until it signs out.

State (codes, refresh tokens, sessions) lives in this process; a restart signs everyone out.
Only loopback redirect URIs are accepted: this provider is for one machine.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.models import AuthorizationCodeMixin
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from serambi_kit.addresses import is_local_host

from .accounts import ACCOUNTS, AUDIENCE, CLIENT_ID, DEV_PASSWORD, Account

SCOPES = ("openid", "profile", "roles", "offline_access")
LOGIN_PATH = "/petugas/masuk/kembali"
CODE_SECONDS = 60


@dataclass(frozen=True)
class Client(ClientMixin):
    """The web service (confidential), redirecting to its sign-in callback on this machine."""

    client_id: str
    secret: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return _loopback(redirect_uri) and urlsplit(redirect_uri).path.endswith(LOGIN_PATH)

    def allows_logout_redirect(self, uri: str) -> bool:
        return _loopback(uri) and "/petugas/" in urlsplit(uri).path

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


def _loopback(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and is_local_host(parts.hostname or "")


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_amr(self) -> list[str]:
        return ["pwd"]


@dataclass
class Refresh:
    token: str
    client_id: str
    scope: str
    username: str
    expires: float

    def check_client(self, client: Client) -> bool:
        return client.get_client_id() == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() > self.expires

    def is_revoked(self) -> bool:
        return False


@dataclass
class Store:
    codes: dict[str, Code] = field(default_factory=dict)
    refreshes: dict[str, Refresh] = field(default_factory=dict)
    nonces: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store() -> Store:
    return flask.current_app.extensions["serambi_devidp"]


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        store = _store()
        with store.lock:
            if data.get("nonce"):
                store.nonces.add(data["nonce"])
            store.codes[code] = Code(
                code,
                request.client.get_client_id(),
                request.payload.redirect_uri,
                request.scope,
                request.user.username,
                data.get("nonce"),
                data.get("code_challenge"),
                data.get("code_challenge_method"),
                int(flask.session.get("auth_time", time.time())),
                time.time() + CODE_SECONDS,
            )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        found = _store().codes.get(code)
        if found and found.client_id == client.get_client_id() and found.expires > time.time():
            return found
        return None

    def delete_authorization_code(self, authorization_code: Code) -> None:
        with _store().lock:
            _store().codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: Code) -> Account | None:
        return ACCOUNTS.get(authorization_code.username)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Refresh | None:
        found = _store().refreshes.get(refresh_token)
        return found if found and not found.is_expired() else None

    def authenticate_user(self, refresh_token: Refresh) -> Account | None:
        return ACCOUNTS.get(refresh_token.username)

    def revoke_old_credential(self, refresh_token: Refresh) -> None:
        with _store().lock:
            _store().refreshes.pop(refresh_token.token, None)


def user_claims(account: Account) -> dict[str, Any]:
    return {
        "sub": account.username,
        "name": account.name,
        "preferred_username": account.username,
        "roles": list(account.roles),
    }


class OpenID(OpenIDCode):
    def __init__(self, keys: KeySet, issuer: str, seconds: int) -> None:
        super().__init__(require_nonce=True)
        self.keys, self.issuer, self.seconds = keys, issuer, seconds

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return nonce in _store().nonces

    def resolve_client_private_key(self, client: Client) -> KeySet:
        return self.keys

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.issuer, "aud": [client.get_client_id()], "exp": int(time.time()) + self.seconds}

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return UserInfo(user_claims(user))


class AccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 access tokens, as the services verify them: ``aud`` serambi, ``roles``."""

    def __init__(self, keys: KeySet, issuer: str, seconds: int) -> None:
        super().__init__(
            issuer,
            refresh_token_generator=lambda **_: secrets.token_urlsafe(32),
            expires_generator=lambda client, grant_type: seconds,
        )
        self.keys = keys

    def get_jwks(self) -> KeySet:
        return self.keys

    def get_audiences(self, client: Client, user: Account, scope: str) -> str:
        return AUDIENCE

    def get_extra_claims(self, client: Client, grant_type: str, user: Account, scope: str) -> dict:
        return {**user_claims(user), "azp": client.get_client_id()}


def create_app(
    issuer: str,
    key: RSAKey,
    client_secret: str,
    *,
    access_seconds: int = 300,
    session_seconds: int = 10 * 3600,
) -> flask.Flask:
    keys = KeySet([key])
    client = Client(CLIENT_ID, client_secret)
    app = flask.Flask(__name__)
    app.secret_key = secrets.token_bytes(32)
    app.config.update(
        SESSION_COOKIE_NAME="serambi_devidp", SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True
    )
    app.extensions["serambi_devidp"] = store = Store()

    def save_token(token: dict[str, Any], request: Any) -> None:
        if "refresh_token" in token:
            with store.lock:
                store.refreshes[token["refresh_token"]] = Refresh(
                    token["refresh_token"],
                    request.client.get_client_id(),
                    token.get("scope", ""),
                    request.user.username,
                    time.time() + session_seconds,
                )

    server = AuthorizationServer(
        app, query_client=lambda client_id: client if client_id == CLIENT_ID else None, save_token=save_token
    )
    server.register_token_generator("default", AccessTokens(keys, issuer, access_seconds))
    server.register_grant(CodeGrant, [CodeChallenge(required=True), OpenID(keys, issuer, access_seconds)])
    server.register_grant(RefreshGrant)

    @app.get("/.well-known/openid-configuration")
    def discovery() -> flask.Response:
        return flask.jsonify(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "end_session_endpoint": f"{issuer}/logout",
                "revocation_endpoint": f"{issuer}/revoke",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": list(SCOPES),
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "claims_supported": ["sub", "name", "preferred_username", "roles"],
            }
        )

    @app.get("/jwks")
    def jwks() -> flask.Response:
        return flask.jsonify(keys.as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        account = ACCOUNTS.get(flask.session.get("user", ""))
        try:
            grant = server.get_consent_grant(end_user=account)
        except OAuth2Error as error:
            return flask.render_template("galat.html", error=error), 400
        if flask.request.method == "GET":
            if account is not None and flask.request.args.get("prompt") != "login":
                return server.create_authorization_response(grant_user=account, grant=grant)
            return flask.render_template("masuk.html", username="", failed=False)
        username = flask.request.form.get("username", "").strip()
        password = flask.request.form.get("password", "")
        account = ACCOUNTS.get(username)
        if account is None or not hmac.compare_digest(password.encode(), DEV_PASSWORD.encode()):
            return flask.render_template("masuk.html", username=username, failed=True), 401
        flask.session.update(user=account.username, auth_time=int(time.time()))
        return server.create_authorization_response(grant_user=account, grant=grant)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    @app.post("/revoke")
    def revoke() -> Any:
        """RFC 7009: the client revokes one of its refresh tokens (an unknown token is no error)."""
        auth = flask.request.authorization
        client_id, secret = (
            (auth.username, auth.password)
            if auth is not None
            else (flask.request.form.get("client_id"), flask.request.form.get("client_secret"))
        )
        if client_id != CLIENT_ID or not client.check_client_secret(secret or ""):
            return flask.jsonify({"error": "invalid_client"}), 401
        with store.lock:
            found = store.refreshes.get(flask.request.form.get("token", ""))
            if found is not None and found.client_id == client_id:
                del store.refreshes[found.token]
        return "", 200

    @app.get("/userinfo")
    def userinfo() -> Any:
        bearer = flask.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(bearer, keys).claims
        except (JoseError, ValueError):
            return flask.jsonify({"error": "invalid_token"}), 401
        if claims.get("iss") != issuer or claims.get("exp", 0) < time.time():
            return flask.jsonify({"error": "invalid_token"}), 401
        account = ACCOUNTS.get(claims.get("sub", ""))
        return (
            flask.jsonify(user_claims(account))
            if account
            else (flask.jsonify({"error": "invalid_token"}), 401)
        )

    @app.route("/logout", methods=["GET", "POST"])
    def end_session() -> Any:
        """RP-initiated logout: ends this provider's session, then back to the relying party."""
        values = flask.request.values
        hint = values.get("id_token_hint")
        if hint:
            try:
                jwt.decode(hint, keys)
            except (JoseError, ValueError):
                return flask.render_template("galat.html", error=OAuth2Error("invalid id_token_hint")), 400
        user = flask.session.get("user")
        if hint:
            user = jwt.decode(hint, keys).claims.get("sub") or user
        if user:  # the officer's refresh tokens end with the session
            with store.lock:
                for token in [t for t, refresh in store.refreshes.items() if refresh.username == user]:
                    del store.refreshes[token]
        flask.session.clear()
        target = values.get("post_logout_redirect_uri")
        if target and client.allows_logout_redirect(target):
            state = values.get("state")
            separator = "&" if urlsplit(target).query else "?"
            return flask.redirect(target + (separator + urlencode({"state": state}) if state else ""))
        return flask.render_template("keluar.html")

    return app

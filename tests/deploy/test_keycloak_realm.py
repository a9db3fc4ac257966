"""deploy/keycloak: the realm gives the console a PKCE-only client and the services the tokens
they verify (a ``roles`` claim with Serambi's role names, audience ``serambi``)."""

from __future__ import annotations

import json

from serambi_kit.auth import ROLES
from serambi_web.settings import ConsoleSettings

from .conftest import DEPLOY

REALM = json.loads((DEPLOY / "keycloak" / "serambi-realm.json").read_text())


def client() -> dict:
    (found,) = [c for c in REALM["clients"] if c["clientId"] == ConsoleSettings().oidc_client_id]
    return found


def test_the_realm_roles_are_serambis_roles():
    assert sorted(role["name"] for role in REALM["roles"]["realm"]) == sorted(ROLES)


def test_the_console_client_is_confidential_code_flow_only_with_pkce_s256():
    web = client()
    assert web["publicClient"] is False and web["clientAuthenticatorType"] == "client-secret"
    assert web["secret"] == "${SERAMBI_OIDC_CLIENT_SECRET}"  # from the import's environment, never in git
    assert web["standardFlowEnabled"] and not web["implicitFlowEnabled"]
    assert not web["directAccessGrantsEnabled"] and not web["serviceAccountsEnabled"]
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert web["redirectUris"] == ["${SERAMBI_PUBLIC_BASE_URL}/petugas/masuk/kembali"]
    assert (
        web["attributes"]["post.logout.redirect.uris"] == "${SERAMBI_PUBLIC_BASE_URL}/petugas/keluar/selesai"
    )


def test_tokens_carry_the_roles_claim_and_the_services_audience():
    mappers = {m["protocolMapper"]: m["config"] for m in client()["protocolMappers"]}
    roles = mappers["oidc-usermodel-realm-role-mapper"]
    assert roles["claim.name"] == "roles" and roles["multivalued"] == "true"
    assert roles["access.token.claim"] == roles["id.token.claim"] == "true"
    audience = mappers["oidc-audience-mapper"]
    assert audience["included.custom.audience"] == ConsoleSettings().auth_audience == "serambi"
    assert audience["access.token.claim"] == "true"


def test_the_realms_sessions_end_with_the_consoles():
    settings = ConsoleSettings()
    assert REALM["ssoSessionIdleTimeout"] == settings.idle_seconds
    assert REALM["ssoSessionMaxLifespan"] == settings.absolute_seconds
    assert REALM["sslRequired"] == "all" and REALM["bruteForceProtected"] is True
    assert REALM["registrationAllowed"] is False

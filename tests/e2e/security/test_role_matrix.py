"""Every officer route declares its roles, and the running services enforce exactly them:
anonymous → 401, a token without the role → 403, a token with it → through to the handler."""

from __future__ import annotations

import importlib
import re

import httpx
import pytest
from fastapi.routing import APIRoute
from serambi_kit.auth import ROLES, issue_dev_token
from serambi_kit.settings import ServiceSettings

pytestmark = pytest.mark.slow  # make test-slow (CI runs it after make test)

SERVICES = ("intake", "scheduling", "complaints", "notifier")
OPERATIONS = {
    "/livez",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/assets/{name}",
    "/docs/oauth2-redirect",
    "/redoc",
}
# Public routes: citizens and institutions, authorised by their access token or a capability.
PUBLIC = {
    ("intake", "POST", "/api/v1/requests"),
    ("intake", "GET", "/api/v1/requests/{tracking_code}"),
    ("intake", "POST", "/api/v1/requests/{tracking_code}/withdraw"),
    ("intake", "POST", "/api/v1/requests/{tracking_code}/resend-link"),
    ("intake", "GET", "/api/v1/survey/instrument"),  # the nine questions and their answers
    ("intake", "GET", "/api/v1/survey"),  # the survey token (X-Survey-Token) opens it
    ("intake", "POST", "/api/v1/survey"),  # answered once with that token
    ("scheduling", "GET", "/api/v1/letters/{document_id}"),
    ("complaints", "POST", "/api/v1/complaints"),
    ("complaints", "GET", "/api/v1/complaints/{tracking_code}"),
    ("complaints", "POST", "/api/v1/complaints/{tracking_code}/dispute"),
    ("complaints", "POST", "/api/v1/complaints/{tracking_code}/resend-link"),
    ("complaints", "GET", "/api/v1/channels/whatsapp/webhook"),  # Meta's verification handshake
    ("complaints", "POST", "/api/v1/channels/whatsapp/webhook"),  # signed by Meta's app secret
    ("notifier", "POST", "/api/v1/sms/receipts/{provider}"),
}


def declared_roles(dependant) -> set[str] | None:
    roles = getattr(dependant.call, "roles", None)
    if roles is not None:
        return set(roles)
    for sub in dependant.dependencies:
        found = declared_roles(sub)
        if found is not None:
            return found
    return None


def api_routes(routes) -> list[APIRoute]:
    """Every APIRoute, also those of included routers (FastAPI keeps them behind the router)."""
    flat = []
    for route in routes:
        if isinstance(route, APIRoute):
            flat.append(route)
        elif hasattr(route, "original_router"):  # our routers carry their full prefix themselves
            flat += api_routes(route.original_router.routes)
    return flat


def routes() -> list[tuple[str, str, str, set[str] | None]]:
    found = []
    for service in SERVICES:
        app = importlib.import_module(f"serambi_{service}.main").create_app()
        for route in api_routes(app.routes):
            if route.path not in OPERATIONS:
                for method in route.methods - {"HEAD"}:
                    found.append((service, method, route.path, declared_roles(route.dependant)))
    return found


ROUTES = routes()


def test_every_route_is_either_public_or_declares_its_roles():
    undeclared = [(s, m, p) for s, m, p, roles in ROUTES if roles is None and (s, m, p) not in PUBLIC]
    assert undeclared == []
    assert not [(s, m, p) for s, m, p, roles in ROUTES if roles is not None and (s, m, p) in PUBLIC]


@pytest.fixture(scope="module")
def everything(tmp_path_factory, stack_of):
    with stack_of(tmp_path_factory.mktemp("matrix"), SERVICES) as stack:
        yield stack


@pytest.fixture(scope="module")
def tokens() -> dict[str, str]:
    return {role: issue_dev_token(ServiceSettings(), [role]) for role in ROLES}


@pytest.mark.parametrize(
    ("service", "method", "path", "roles"),
    [route for route in ROUTES if route[3] is not None],
    ids=[f"{s} {m} {p}" for s, m, p, r in ROUTES if r is not None],
)
def test_the_route_answers_each_role_as_declared(everything, tokens, service, method, path, roles):
    url = everything.urls[service] + re.sub(r"\{[^}]+\}", "X1", path)
    assert httpx.request(method, url, timeout=10).status_code == 401
    assert (
        httpx.request(method, url, headers={"Authorization": "Bearer tampered"}, timeout=10).status_code
        == 401
    )
    for role, token in tokens.items():
        status = httpx.request(
            method, url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).status_code
        if role in roles:
            assert status not in (401, 403), (role, status)
        else:
            assert status == 403, (role, status)

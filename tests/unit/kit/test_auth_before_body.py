"""Officer upload routes check the token and the role before the body is read: an anonymous
caller (or one without the role) cannot make a service spool up to SERAMBI_MAX_REQUEST_BYTES.

The apps are the services' own (``create_app``), called straight through ASGI with a chunked
multipart body whose chunks are counted as the app asks for them; nothing is started (no NATS,
no MongoDB): the refusals come before anything needs them."""

from __future__ import annotations

import asyncio
import importlib
from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI, File, UploadFile
from fastapi.testclient import TestClient
from serambi_kit.auth import Officer, TokenVerifier, issue_dev_token, require_roles
from serambi_kit.bodylimit import BodyLimit, ChecksFirstRoute
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import KitState, install

CHUNK = 64 * 1024
CHUNKS = 200  # 12.5 MiB, under intake's and complaints' upload limits
UPLOAD_ROUTES = {
    "intake": "/api/v1/officer/requests",
    "complaints": "/api/v1/officer/complaints",
}


def _bearer(roles: list[str]) -> bytes:
    return f"Bearer {issue_dev_token(ServiceSettings(), roles, subject='officer-9')}".encode()


def _post(app: FastAPI, path: str, authorization: bytes | None) -> tuple[int, int]:
    """POST a chunked multipart body of CHUNKS chunks through ASGI: (status, chunks read)."""
    read = 0
    statuses: list[int] = []

    async def receive() -> dict:
        nonlocal read
        read += 1
        if read == 1:
            body = (
                b'--x\r\nContent-Disposition: form-data; name="identity_document"; '
                b'filename="ktp.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n'
            )
        else:
            body = b"\0" * CHUNK
        return {"type": "http.request", "body": body, "more_body": read < CHUNKS}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    headers = [(b"content-type", b"multipart/form-data; boundary=x"), (b"transfer-encoding", b"chunked")]
    if authorization is not None:
        headers.append((b"authorization", authorization))
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "server": ("test", 80),
        "client": ("192.0.2.1", 1234),
        "headers": headers,
    }
    asyncio.run(app(scope, receive, send))
    return statuses[0], read


@pytest.fixture(scope="module", params=list(UPLOAD_ROUTES))
def service(request) -> tuple[FastAPI, str]:
    app = importlib.import_module(f"serambi_{request.param}.main").create_app()
    return app, UPLOAD_ROUTES[request.param]


@pytest.mark.parametrize("authorization", [None, b"Bearer not-a-token", b"Basic b2ZmaWNlcjpwYXNz"])
def test_an_unauthenticated_chunked_upload_is_refused_with_401_before_its_body_is_read(
    service, authorization
):
    app, path = service
    assert _post(app, path, authorization) == (401, 0)


def test_an_upload_by_an_officer_without_the_role_is_refused_with_403_before_its_body_is_read(service):
    app, path = service
    assert _post(app, path, _bearer(["scheduler"] if "complaints" in path else ["complaint_team"])) == (
        403,
        0,
    )


# -- the kit's mechanism, on a small app --------------------------------------------------------


def _app() -> FastAPI:
    app = FastAPI()
    state = install(app, KitState(ServiceSettings(), token_verifier=TokenVerifier(ServiceSettings())))
    router = APIRouter(route_class=ChecksFirstRoute)
    verified: list[str] = []
    app.state.verified = verified
    original = state.token_verifier.verify

    def counting(token: str) -> Officer:
        verified.append(token)
        return original(token)

    state.token_verifier.verify = counting

    @router.post("/uploads")
    async def uploads(
        officer: Annotated[Officer, Depends(require_roles("desk"))], file: Annotated[UploadFile, File()]
    ) -> dict:
        return {"officer": officer.subject, "size": len(await file.read())}

    app.include_router(router)
    app.add_middleware(BodyLimit, limit=1_000_000)
    return app


def test_an_officer_with_the_role_uploads_and_the_token_is_verified_once():
    app = _app()
    with TestClient(app) as client:
        answer = client.post(
            "/uploads",
            files={"file": ("a.bin", b"y" * 5000)},
            headers={"Authorization": _bearer(["desk"]).decode()},
        )
    assert answer.status_code == 200 and answer.json() == {"officer": "officer-9", "size": 5000}
    assert len(app.state.verified) == 1


def test_the_refusal_before_the_body_keeps_the_401_answer_and_its_challenge():
    with TestClient(_app()) as client:
        answer = client.post("/uploads", files={"file": ("a.bin", b"y")})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert answer.json() == {"detail": "authentication required"}

"""Every file Serambi hands out is a download in a sandbox (issue 19 item 8): intake's request
documents and identity scans, complaints' attachments, scheduling's answer letters (public link
and officers'), and the portal's and the console's relays of letters carry
``Content-Disposition: attachment``, ``X-Content-Type-Options: nosniff`` and
``Content-Security-Policy: default-src 'none'; sandbox``; a document or attachment download is
audited (PersonalDataAccessed) before its first byte leaves.

The services' own routers run in a small app whose state is faked (no NATS, no MongoDB); the
portal and the console run whole, against a fake scheduling and intake on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from fastapi.testclient import TestClient
from serambi_kit.auth import TokenVerifier, issue_dev_token
from serambi_kit.downloads import SANDBOX_CSP, download_headers
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import KitState, install
from serambi_testing import localstack

PNG = b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>"
PDF = b"%PDF-1.4\n<script>alert(1)</script>"
DOCUMENT = "D" + "a" * 32
LETTER = "L" + "b" * 32


def assert_sandboxed_download(response: httpx.Response, filename: str) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == SANDBOX_CSP == "default-src 'none'; sandbox"
    assert "no-store" in response.headers["cache-control"]


def test_a_file_name_cannot_smuggle_a_quote_or_a_header_into_the_disposition():
    headers = download_headers('a"b\r\nSet-Cookie: x=1; ../ktp.pdf')
    assert headers["Content-Disposition"] == 'attachment; filename="a-b-Set-Cookie-x-1-..-ktp.pdf"'
    assert download_headers("")["Content-Disposition"] == 'attachment; filename="berkas"'


def bearer(roles: list[str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), roles, subject='petugas-3')}"}


class Collection:
    def __init__(self, document: dict | None) -> None:
        self.document = document

    async def find_one(self, *_args, **_kwargs) -> dict | None:
        return self.document


class Files:
    """A document store whose content is streamed in two blocks; notes when reading started."""

    def __init__(self, content: bytes, log: list[str]) -> None:
        self.content, self.log = content, log

    async def open(self, _document_id: str) -> AsyncIterator[bytes]:
        async def blocks() -> AsyncIterator[bytes]:
            self.log.append("streamed")
            yield self.content[:8]
            yield self.content[8:]

        return blocks()


def audited(log: list[str]):
    async def record_access(_store, context, case, officer, fields, purpose) -> None:
        log.append(f"audited {context} {case} {officer.subject} {fields} {purpose}")

    return record_access


def service_app(router, **state) -> FastAPI:
    app = FastAPI()
    runtime = state.pop("runtime", None)
    install(app, KitState(ServiceSettings(), runtime, TokenVerifier(ServiceSettings())))
    for name, value in state.items():
        setattr(app.state, name, value)
    app.include_router(router)
    return app


def test_an_identity_document_is_a_sandboxed_download_audited_before_it_is_sent(monkeypatch):
    from serambi_intake.api import officer

    log: list[str] = []
    monkeypatch.setattr(officer, "record_access", audited(log))
    ref = {"document_id": DOCUMENT, "kind": "identity_document", "media_type": "image/png", "size": len(PNG)}
    runtime = SimpleNamespace(
        db={"requests": Collection({"_id": "AUD-2026-000007", "documents": [ref]})}, mongo_connected=True
    )
    intake = SimpleNamespace(store=None, documents=Files(PNG, log))
    app = service_app(officer.router, runtime=runtime, intake=intake)
    with TestClient(app) as client:
        answer = client.get(f"/api/v1/officer/documents/{DOCUMENT}", headers=bearer(["desk"]))
    assert_sandboxed_download(answer, "AUD-2026-000007-identity_document.png")
    assert answer.content == PNG and answer.headers["content-type"] == "image/png"
    assert log == [
        "audited intake AUD-2026-000007 petugas-3 ['identity_document'] document download",
        "streamed",
    ]


def test_a_complaint_attachment_is_a_sandboxed_download_audited_before_it_is_sent(monkeypatch):
    from serambi_complaints.api import officer

    log: list[str] = []
    monkeypatch.setattr(officer, "record_access", audited(log))
    ref = {"document_id": DOCUMENT, "media_type": "application/pdf", "size": len(PDF)}
    complaints = SimpleNamespace(
        reader=lambda: SimpleNamespace(attachment=lambda code, document_id: _found((2, ref))),
        attachments=Files(PDF, log),
        runtime=SimpleNamespace(store=None),
    )
    app = service_app(officer.router, complaints=complaints)
    with TestClient(app) as client:
        answer = client.get(
            f"/api/v1/officer/complaints/ADU-2026-000003/attachments/{DOCUMENT}",
            headers=bearer(["complaint_officer"]),
        )
    assert_sandboxed_download(answer, "ADU-2026-000003-lampiran-2.pdf")
    assert answer.content == PDF
    assert log == [
        "audited complaints ADU-2026-000003 petugas-3 ['attachment'] attachment 2 download",
        "streamed",
    ]


async def _found(value):
    return value


def test_an_answer_letter_by_its_public_link_is_a_sandboxed_download():
    from serambi_scheduling.api import letters

    stored = {
        "_id": LETTER,
        "content": PDF,
        "media_type": "application/pdf",
        "audience_id": "AUD-2026-000007",
        "sha256": "c" * 64,
    }
    app = service_app(
        letters.router, runtime=SimpleNamespace(db={letters.LETTERS: Collection(stored)}, vault=None)
    )
    with TestClient(app) as client:
        answer = client.get(f"/api/v1/letters/{LETTER}")
    assert_sandboxed_download(answer, "surat-jawaban-AUD-2026-000007.pdf")
    assert answer.headers["referrer-policy"] == "no-referrer" and answer.content == PDF


# -- the portal's and the console's relays -------------------------------------------------------


@pytest.fixture
async def backends() -> AsyncIterator[str]:
    """Intake's tracking view (its timeline links a letter) and scheduling's letters, on loopback."""

    async def track(request: web.Request) -> web.Response:
        code = request.match_info["code"]
        return web.json_response(
            {
                "tracking_code": code,
                "status": "scheduled",
                "timeline": [
                    {
                        "at": "2026-03-02T09:00:00+07:00",
                        "step": "scheduled",
                        "letter": f"/api/v1/letters/{LETTER}",
                    }
                ],
            }
        )

    async def letter(_request: web.Request) -> web.Response:
        return web.Response(body=PDF, content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/api/v1/requests/{code}", track)
    app.router.add_get("/api/v1/letters/{document_id}", letter)
    app.router.add_get("/api/v1/audiences/{audience_id}/letter", letter)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


def portal_app(url: str) -> FastAPI:
    from serambi_web.main import create_app
    from serambi_web.settings import WebSettings

    return create_app(WebSettings(intake_url=url, complaints_url=url, scheduling_url=url))


async def test_the_portal_relays_an_answer_letter_as_a_sandboxed_download(backends):
    app = portal_app(backends)
    code = "AUD-2026-000007"
    cookie = app.state.runtime.secrets.seal(f"audiensi:{code}", "t" * 43)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://portal.test"
    ) as client:
        client.cookies.set(app.state.runtime.secrets.session_cookie, cookie, path=f"/lacak/audiensi/{code}")
        answer = await client.get(f"/lacak/audiensi/{code}/surat/{LETTER}")
    assert_sandboxed_download(answer, f"surat-jawaban-{code}.pdf")
    assert answer.content == PDF


async def test_the_console_relays_an_answer_letter_as_a_sandboxed_download(backends):
    from serambi_web.adapters.session import OfficerSession, session_cookies

    app = portal_app(backends)
    now = time.time()
    session = OfficerSession(
        subject="s1",
        name="Petugas Penjadwalan",
        username="jadwal",
        roles=["scheduler"],
        access_token="at",
        access_expires=now + 3600,
        refresh_token="rt",
        id_token="it",
        started=now - 60,
        seen=now - 5,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
    ) as client:
        for name, value in session_cookies(app.state.console.sealer, session).items():
            if value:
                client.cookies.set(name, value, path="/petugas")
        answer = await client.get("/petugas/penjadwalan/audiensi/AUD-2026-000007/surat")
    assert_sandboxed_download(answer, "surat-jawaban-AUD-2026-000007.pdf")
    assert answer.content == PDF


async def test_the_portal_pages_keep_their_own_policy(backends):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=portal_app(backends)), base_url="http://portal.test"
    ) as client:
        page = await client.get("/lacak")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]

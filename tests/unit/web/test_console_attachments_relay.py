"""The console's complaint attachments against a fake complaints officer API: the recording
form's files relayed as multipart with the officer's token and the form's key, refused here when
too many or too large, the service's refusals worded in Indonesian beside the file input with the
typed text kept; the case page's list; downloads relayed as sandboxed attachments, streamed."""

from __future__ import annotations

import asyncio
import re
import time
import tracemalloc
from collections.abc import AsyncIterator
from email import policy
from email.parser import BytesParser

import httpx
import pytest
from aiohttp import web
from serambi_testing import localstack
from serambi_web.adapters.backend import Pool
from serambi_web.adapters.services import Complaints
from serambi_web.adapters.session import OfficerSession, session_cookies
from serambi_web.api.petugas.pengaduan_lampiran import Relayed
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

CODE = "ADU-2026-000077"
AUDIO, PHOTO, ERASED = "D" + "a" * 32, "D" + "b" * 32, "D" + "c" * 32
OGG = b"OggS\x00\x02" + bytes(22) + b"\x01\x1e\x01vorbis" + bytes(40)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(60)
MAGIC = (b"OggS", b"\x89PNG", b"%PDF-", b"\xff\xd8\xff")
FORM = {
    "channel": "telephone",
    "received_at": "2026-12-01T09:15",
    "disclosure": "named",
    "name": "Budi Santoso",
    "phone": "0812 3456 7890",
    "summary": "Lampu jalan padam",
    "description": "Sudah seminggu lampu jalan di Jalan Merdeka padam.",
    "key": "k" * 32,
}
CASE = {
    "tracking_code": CODE,
    "status": "received",
    "channel": "telephone",
    "disclosure": "named",
    "tier": None,
    "received_at": "2026-12-01T09:15:00+07:00",
    "clock": "triage",
    "due_at": "2026-12-01T12:15:00+07:00",
    "working_time_remaining": "PT2H",
    "working_seconds_remaining": 7200,
    "paused": False,
    "overdue": False,
    "team": None,
    "assignee": None,
    "round": 1,
    "breached": False,
    "summary": "Lampu jalan padam",
    "complainant": {
        "anonymous": False,
        "masked": True,
        "name": "B*** S***",
        "email": None,
        "phone": "0812****7890",
    },
    "description": "Jalan gelap.",
    "answer": None,
    "answered_at": None,
    "answered_on_time": None,
    "closed_at": None,
    "recorded_by": "f3a1",
    "recorded_at": None,
    "external_ref": None,
    "pause_reason": None,
    "attachments": [
        {"document_id": AUDIO, "media_type": "audio/ogg", "size": 12_345},
        {"document_id": PHOTO, "media_type": "image/png", "size": 2_400_000},
    ],
    "warnings": [],
    "breaches": [],
    "timeline": [
        {"step": "received", "at": "2026-12-01T09:15:00+07:00", "by": "aduan"},
        {
            "step": "note",
            "at": "2026-12-02T10:00:00+07:00",
            "source": "complainant",
            "channel": "whatsapp",
            "by": None,
            "text": "Foto tambahan.",
            "attachments": [PHOTO],
        },
    ],
}
DOWNLOAD = OGG + bytes(range(256)) * 4000  # about 1 MB


class Fake:
    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.downloads: list[dict] = []
        self.big = 0  # bytes of the large download

    async def record(self, request: web.Request) -> web.Response:
        body = await request.read()
        content_type = request.headers.get("Content-Type", "")
        message = BytesParser(policy=policy.default).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = (
            [
                (
                    part.get_param("name", header="content-disposition"),
                    part.get_filename(),
                    part.get_payload(decode=True),
                )
                for part in message.iter_parts()
            ]
            if message.is_multipart()
            else []
        )
        self.posts.append({"headers": dict(request.headers), "parts": parts, "content_type": content_type})
        files = [data for name, filename, data in parts if name == "attachments"]
        for position, data in enumerate(files):
            if not data.startswith(MAGIC):
                return web.json_response(
                    {
                        "detail": "unsupported",
                        "errors": [
                            {
                                "field": f"attachments.{position}",
                                "rule": "unsupported_type",
                                "message": f"attachments.{position}: the content is not one of ...",
                            }
                        ],
                    },
                    status=415,
                )
        return web.json_response(
            {
                "tracking_code": CODE,
                "access_token": "a" * 43,
                "status": "received",
                "received_at": "2026-12-01T09:15:00+07:00",
                "due_at": None,
                "tier": None,
                "attachments": [],
            },
            status=201,
        )

    async def case(self, _: web.Request) -> web.Response:
        return web.json_response(CASE)

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        self.downloads.append(
            {
                "authorization": request.headers.get("Authorization"),
                "document": request.match_info["document"],
            }
        )
        document = request.match_info["document"]
        if document == ERASED:
            return web.json_response({"detail": "erased"}, status=410)
        if document not in (AUDIO, PHOTO):
            return web.json_response({"detail": "no attachment"}, status=404)
        size = self.big or len(DOWNLOAD)
        response = web.StreamResponse(
            headers={
                "Content-Type": "audio/ogg",
                "Content-Length": str(size),
                "Content-Disposition": f'attachment; filename="{CODE}-lampiran-1.ogg"',
            }
        )
        await response.prepare(request)
        if self.big:
            block = OGG + bytes(64 * 1024 - len(OGG))
            for _ in range(size // len(block)):
                await response.write(block)
        else:
            await response.write(DOWNLOAD)
        await response.write_eof()
        return response


@pytest.fixture
async def fake() -> AsyncIterator[tuple[Fake, str]]:
    state = Fake()
    app = web.Application(client_max_size=60_000_000)
    app.router.add_post("/api/v1/officer/complaints", state.record)
    app.router.add_get(f"/api/v1/officer/complaints/{CODE}", state.case)
    app.router.add_get(f"/api/v1/officer/complaints/{CODE}/attachments/{{document}}", state.attachment)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield state, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def console(url: str, **settings) -> tuple[object, httpx.AsyncClient]:
    app = create_app(
        WebSettings(
            intake_url=url, complaints_url=url, scheduling_url=url, backend_timeout_seconds=5, **settings
        )
    )
    now = time.time()
    session = OfficerSession(
        subject="f3a1",
        name="Petugas Pengaduan",
        username="aduan",
        roles=["complaint_officer"],
        access_token="officer-token",
        access_expires=now + 3600,
        refresh_token=None,
        id_token=None,
        started=now - 60,
        seen=now - 60,
    )
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("127.0.0.1", 40000)), base_url="http://127.0.0.1"
    )
    for name, value in session_cookies(app.state.console.sealer, session).items():
        if value:
            client.cookies.set(name, value, path="/petugas")
    return app, client


async def csrf_of(client: httpx.AsyncClient) -> str:
    page = await client.get("/petugas/pengaduan/baru")
    assert page.status_code == 200, page.text[:500]
    assert 'enctype="multipart/form-data"' in page.text and 'name="attachments"' in page.text
    [token] = re.findall(r'name="csrf" value="([^"]+)"', page.text)[-1:]
    return token


async def test_the_files_go_on_to_the_officer_api_as_multipart_with_the_officers_token_and_the_forms_key(
    fake,
):
    state, url = fake
    _, client = console(url)
    async with client:
        csrf = await csrf_of(client)
        answer = await client.post(
            "/petugas/pengaduan/baru",
            data={"csrf": csrf, **FORM},
            files=[
                ("attachments", ("telepon.ogg", OGG, "audio/ogg")),
                ("attachments", ("foto.png", PNG, "image/png")),
            ],
        )
    assert answer.status_code == 201, answer.text[:800]
    assert CODE in answer.text
    [post] = state.posts
    assert post["content_type"].startswith("multipart/form-data")
    assert post["headers"]["Authorization"] == "Bearer officer-token"
    assert post["headers"]["Idempotency-Key"] == f"console-f3a1-{'k' * 32}"
    fields = {name: data.decode() for name, filename, data in post["parts"] if filename is None}
    assert fields["channel"] == "telephone" and fields["received_at"] == "2026-12-01T09:15:00+07:00"
    assert [(filename, data) for name, filename, data in post["parts"] if name == "attachments"] == [
        ("telepon.ogg", OGG),
        ("foto.png", PNG),
    ]


async def test_a_refused_file_type_comes_back_beside_the_file_input_in_indonesian_with_the_typed_text_kept(
    fake,
):
    state, url = fake
    _, client = console(url)
    async with client:
        csrf = await csrf_of(client)
        answer = await client.post(
            "/petugas/pengaduan/baru",
            data={"csrf": csrf, **FORM},
            files=[
                ("attachments", ("telepon.ogg", OGG, "audio/ogg")),
                ("attachments", ("catatan.png", b"hanya teks, bukan gambar", "image/png")),
            ],
        )
    assert answer.status_code == 422 and len(state.posts) == 1
    page = answer.text
    error = re.search(r'<p class="galat" id="attachments-galat">(.*?)</p>', page, re.S)
    assert error, page
    assert "Lampiran ke-2 (catatan.png) bukan berkas yang diterima" in error.group(1)
    assert "M4A atau OGG" in error.group(1)
    assert re.search(r'<input id="attachments"[^>]*aria-describedby="[^"]*attachments-galat', page, re.S)
    assert 'aria-invalid="true"' in page and 'href="#attachments"' in page  # the summary links to it
    assert 'value="Budi Santoso"' in page and "Sudah seminggu lampu jalan" in page
    assert f'name="key" value="{"k" * 32}"' in page  # the same key: a resend is the same complaint
    assert "pilih ulang berkasnya" in page
    assert "the content is not one of" not in page  # never the service's English


async def test_more_files_than_allowed_or_one_too_large_is_refused_before_anything_is_sent(fake):
    state, url = fake
    _, client = console(url, max_attachment_bytes=1_000_000)
    async with client:
        csrf = await csrf_of(client)
        many = await client.post(
            "/petugas/pengaduan/baru",
            data={"csrf": csrf, **FORM},
            files=[("attachments", (f"foto-{n}.png", PNG, "image/png")) for n in range(6)],
        )
        large = await client.post(
            "/petugas/pengaduan/baru",
            data={"csrf": csrf, **FORM},
            files=[
                ("attachments", ("foto.png", PNG, "image/png")),
                ("attachments", ("besar.png", PNG + bytes(1_000_000), "image/png")),
            ],
        )
    assert many.status_code == 422 and "Paling banyak 5 lampiran; Anda memilih 6." in many.text
    assert large.status_code == 422
    assert "Lampiran ke-2 (besar.png) terlalu besar. Ukuran paling besar 1 MB." in large.text
    assert state.posts == []


@pytest.mark.parametrize("count", [7, 9, 20])
async def test_a_few_files_too_many_are_refused_in_words_with_the_typed_text_kept_not_a_bare_400(fake, count):
    state, url = fake
    _, client = console(url)
    async with client:
        csrf = await csrf_of(client)
        answer = await client.post(
            "/petugas/pengaduan/baru",
            data={"csrf": csrf, **FORM},
            files=[("attachments", (f"foto-{n}.png", PNG, "image/png")) for n in range(count)],
        )
    assert answer.status_code == 422, answer.text[:300]
    assert f"Paling banyak 5 lampiran; Anda memilih {count}." in answer.text
    assert 'value="Budi Santoso"' in answer.text and "Sudah seminggu lampu jalan" in answer.text
    assert state.posts == []


async def test_the_case_page_lists_each_attachment_with_its_type_size_and_a_download_link(fake):
    _, url = fake
    _, client = console(url)
    async with client:
        page = await client.get(f"/petugas/pengaduan/{CODE}")
    assert page.status_code == 200, page.text[:800]
    text = re.sub(r"\s+", " ", page.text)
    assert "Lampiran 1: Rekaman suara OGG, 12,3 KB" in text
    assert "Lampiran 2: Gambar PNG, 2,4 MB" in text
    assert f'href="/petugas/pengaduan/{CODE}/lampiran/{AUDIO}"' in text
    assert f'href="/petugas/pengaduan/{CODE}/lampiran/{PHOTO}"' in text
    assert '(1 lampiran: <a href="#lampiran-2">lampiran 2</a>)' in text  # the note's file in the list


async def test_a_download_is_relayed_with_the_officers_token_as_a_sandboxed_attachment(fake):
    state, url = fake
    _, client = console(url)
    async with client:
        answer = await client.get(f"/petugas/pengaduan/{CODE}/lampiran/{AUDIO}")
        erased = await client.get(f"/petugas/pengaduan/{CODE}/lampiran/{ERASED}")
        unknown = await client.get(f"/petugas/pengaduan/{CODE}/lampiran/{'D' + 'd' * 32}")
        malformed = await client.get(f"/petugas/pengaduan/{CODE}/lampiran/..%2F..%2Fetc")
    assert answer.status_code == 200 and answer.content == DOWNLOAD
    assert answer.headers["content-type"] == "audio/ogg"
    assert answer.headers["content-disposition"] == f'attachment; filename="{CODE}-lampiran-1.ogg"'
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert "no-store" in answer.headers["cache-control"]
    assert state.downloads[0] == {"authorization": "Bearer officer-token", "document": AUDIO}
    assert erased.status_code == 410 and "dihapus bersama data pribadi pelapor" in erased.text
    assert unknown.status_code == 404 and malformed.status_code == 404
    assert len(state.downloads) == 3  # the malformed one never reached the service


async def test_a_large_download_is_streamed_through_never_held_whole_in_memory(fake):
    """20 MB from the service to the browser: the relay's Python allocations stay under 2 MB."""
    state, url = fake
    state.big = 20 * 64 * 1024 * 16  # 20 MiB
    pool = Pool(timeout_seconds=10)
    complaints = Complaints("complaints", pool, url)
    sent = [0]

    async def send(message: dict) -> None:
        sent[0] += len(message.get("body", b""))

    async def receive() -> dict:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    tracemalloc.start()
    try:
        download = await complaints.download(f"/api/v1/officer/complaints/{CODE}/attachments/{AUDIO}", {})
        await Relayed(download, CODE)({"type": "http", "asgi": {"spec_version": "2.4"}}, receive, send)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await pool.aclose()
    assert sent[0] == state.big
    assert peak < 2_000_000, f"peak Python allocations {peak:,} bytes while relaying 20 MiB"

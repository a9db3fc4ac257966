"""The two forms with files, in the portal's process against fake services on loopback: the
Idempotency-Key each form carries, the form given back filled in after a 409, 503 or 429, files
streamed to the service, the bounded number of uploads at once, cross-site posts refused, the
cookie names over HTTPS, and the services' error codes as Indonesian messages."""

from __future__ import annotations

import asyncio
import hashlib
import re
import tempfile
import tracemalloc
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from serambi_testing import localstack
from serambi_web.adapters.backend import ApiError, Pool, _Stream
from serambi_web.adapters.services import Complaints
from serambi_web.domain.messages import field_errors
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64
COMPLAINT = {"disclosure": "anonymous", "summary": "Antrean lama", "description": "Dua jam menunggu."}


class FakeService:
    """Answers the submissions with the statuses queued in ``script`` (then 201) and records what
    it received; a body is read in chunks and only hashed."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.seen: list[dict] = []

    async def view(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "tracking_code": request.match_info["code"],
                "status": "answered",
                "answer": "Sudah diperbaiki.",
                "dispute_until": "2031-01-01T00:00:00+07:00",
                "timeline": [],
            }
        )

    async def submit(self, request: web.Request) -> web.Response:
        digest, size = hashlib.sha256(), 0
        async for chunk in request.content.iter_chunked(65_536):
            digest.update(chunk)
            size += len(chunk)
        self.seen.append({"headers": dict(request.headers), "size": size, "sha256": digest.hexdigest()})
        status = self.script.pop(0) if self.script else 201
        if status == 429:
            return web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": "9"})
        if status == 422:
            return web.json_response(
                {
                    "error": "invalid_request",
                    "errors": [{"field": "", "rule": "contact_required", "message": "any wording"}],
                },
                status=422,
            )
        if status != 201:
            return web.json_response({"error": "x"}, status=status)
        return web.json_response(
            {"tracking_code": "ADU-2026-000001", "access_token": "a" * 43, "answer_due_at": None}, status=201
        )


@pytest.fixture
async def service() -> AsyncIterator[tuple[FakeService, str]]:
    fake = FakeService()
    app = web.Application(client_max_size=60_000_000)
    app.router.add_post("/api/v1/complaints", fake.submit)
    app.router.add_post("/api/v1/requests", fake.submit)
    app.router.add_get("/api/v1/complaints/{code}", fake.view)
    app.router.add_post("/api/v1/complaints/{code}/dispute", fake.submit)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield fake, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def portal(url: str, **settings: object) -> httpx.AsyncClient:
    app = create_app(
        WebSettings(
            intake_url=url, complaints_url=url, scheduling_url=url, backend_timeout_seconds=5, **settings
        )
    )
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    base = "https://portal.test" if settings.get("secure_cookies") else "http://portal.test"
    return httpx.AsyncClient(transport=transport, base_url=base)


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return found.group(1)


async def post_complaint(
    client: httpx.AsyncClient, form: dict[str, str], files: list | None = None
) -> httpx.Response:
    return await client.post(
        "/pengaduan", data=form, files=files or [("attachments", ("", b"", "application/octet-stream"))]
    )


async def test_a_complaint_given_back_after_a_503_keeps_what_was_typed_and_its_key_and_a_resend_is_one_case(
    service,
):
    fake, url = service
    fake.script = [503, 409]
    async with portal(url) as client:
        page = (await client.get("/pengaduan")).text
        key = hidden(page, "idempotency")
        form = {"csrf": hidden(page, "csrf"), "idempotency": key, **COMPLAINT}
        for status in (503, 409):
            again = await post_complaint(client, form)
            assert again.status_code == status
            assert hidden(again.text, "idempotency") == key
            assert 'id="banner" role="alert"' in again.text and "tidak akan tercatat dua kali" in again.text
            assert ">Dua jam menunggu.</textarea>" in again.text and 'value="Antrean lama"' in again.text
            assert again.headers["retry-after"]
        done = await post_complaint(client, form)
        assert done.status_code == 201 and "ADU-2026-000001" in done.text
    assert [seen["headers"]["Idempotency-Key"] for seen in fake.seen] == [f"web-{key}"] * 3


async def test_the_request_form_sends_its_key_and_comes_back_filled_in_after_the_services_429(service):
    fake, url = service
    fake.script = [429]
    async with portal(url) as client:
        page = (await client.get("/audiensi")).text
        key = hidden(page, "idempotency")
        form = {
            "csrf": hidden(page, "csrf"),
            "idempotency": key,
            "requester_name": "Siti Aminah",
            "topic": "Hilirisasi",
        }
        files = [
            ("request_letter", ("surat.pdf", b"%PDF-1.4 x", "application/pdf")),
            ("identity_document", ("ktp.png", PNG, "image/png")),
        ]
        answer = await client.post("/audiensi", data=form, files=files)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "9"
    assert 'value="Siti Aminah"' in answer.text and hidden(answer.text, "idempotency") == key
    assert fake.seen[0]["headers"]["Idempotency-Key"] == f"web-{key}"


async def test_the_portals_own_rate_limit_gives_the_form_back_filled_in(service):
    fake, url = service
    async with portal(url, rate_limits={"submissions": 1, "lookups": 100, "link_resends": 5}) as client:
        page = (await client.get("/pengaduan")).text
        form = {"csrf": hidden(page, "csrf"), "idempotency": hidden(page, "idempotency"), **COMPLAINT}
        assert (await post_complaint(client, form)).status_code == 201
        refused = await post_complaint(client, form)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Terlalu banyak kiriman" in refused.text and ">Dua jam menunggu.</textarea>" in refused.text
    assert len(fake.seen) == 1


async def test_a_file_above_the_limit_is_refused_by_the_portal_with_the_form_kept_and_nothing_sent(service):
    fake, url = service
    async with portal(url, max_attachment_bytes=10_000) as client:
        page = (await client.get("/pengaduan")).text
        form = {"csrf": hidden(page, "csrf"), "idempotency": hidden(page, "idempotency"), **COMPLAINT}
        answer = await post_complaint(
            client, form, [("attachments", ("foto.png", PNG + b"0" * 10_000, "image/png"))]
        )
    assert answer.status_code == 422 and 'id="attachments-galat"' in answer.text
    assert "terlalu besar" in answer.text and 'value="Antrean lama"' in answer.text
    assert fake.seen == []


@pytest.mark.parametrize("count", [7, 9, 20])
async def test_a_few_files_too_many_are_refused_in_words_with_the_form_kept_not_a_bare_400(service, count):
    fake, url = service
    async with portal(url) as client:
        page = (await client.get("/pengaduan")).text
        form = {"csrf": hidden(page, "csrf"), "idempotency": hidden(page, "idempotency"), **COMPLAINT}
        answer = await post_complaint(
            client, form, [("attachments", (f"foto-{n}.png", PNG, "image/png")) for n in range(count)]
        )
    assert answer.status_code == 422 and 'id="attachments-galat"' in answer.text
    assert "Paling banyak 5 lampiran." in answer.text and 'value="Antrean lama"' in answer.text
    assert fake.seen == []


async def test_when_every_upload_slot_stays_taken_the_post_gets_the_coba_lagi_page(service):
    fake, url = service
    async with portal(url, max_concurrent_uploads=1, upload_queue_seconds=0.2) as client:
        page = (await client.get("/pengaduan")).text
        form = {"csrf": hidden(page, "csrf"), "idempotency": hidden(page, "idempotency"), **COMPLAINT}
        slots = client._transport.app.state.runtime.uploads  # type: ignore[attr-defined]
        await slots.acquire()
        busy = await post_complaint(client, form)
        slots.release()
        free = await post_complaint(client, form)
    assert busy.status_code == 503 and "coba lagi" in busy.text and busy.headers["retry-after"]
    assert free.status_code == 201 and len(fake.seen) == 1


async def test_the_complaint_form_passes_its_files_on_as_open_files_not_bytes(service):
    fake, url = service
    passed: list = []
    async with portal(url) as client:
        complaints = client._transport.app.state.runtime.complaints  # type: ignore[attr-defined]
        submit = complaints.submit

        async def spy(fields: list, files: list, headers: dict) -> dict:
            passed.extend(content for _, (_, content, _) in files)
            return await submit(fields, files, headers)

        complaints.submit = spy
        page = (await client.get("/pengaduan")).text
        form = {"csrf": hidden(page, "csrf"), "idempotency": hidden(page, "idempotency"), **COMPLAINT}
        big = PNG + b"0" * 2_000_000  # above the parser's 1 MB in memory: spooled to /tmp
        assert (
            await post_complaint(client, form, [("attachments", ("foto.png", big, "image/png"))])
        ).status_code == 201
    assert len(passed) == 1 and not isinstance(passed[0], bytes) and hasattr(passed[0], "read")
    assert fake.seen[0]["sha256"] != hashlib.sha256(b"").hexdigest() and fake.seen[0]["size"] > len(big)


async def test_uploads_are_streamed_to_the_service_never_held_whole_in_memory(service):
    """Three 10 MB attachments from where the form parser spooled them: the service gets every
    byte, with a Content-Length, while the portal's Python allocations stay under 2 MB."""
    fake, url = service
    data = PNG + b"0" * (10_000_000 - len(PNG))
    spooled = []
    for _ in range(3):
        file = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 — closed below
        file.write(data)
        file.seek(0)
        spooled.append(file)
    pool = Pool(timeout_seconds=10)
    complaints = Complaints("complaints", pool, url)
    tracemalloc.start()
    try:
        await complaints.submit(
            [("summary", "x")], [("attachments", ("foto.png", f, "image/png")) for f in spooled]
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await pool.aclose()
        for file in spooled:
            file.close()
    received = fake.seen[-1]
    assert received["size"] > 30_000_000 and int(received["headers"]["Content-Length"]) == received["size"]
    assert peak < 2_000_000, f"peak Python allocations {peak:,} bytes while relaying 30 MB"


async def test_a_post_from_another_site_is_refused_before_its_form_is_read(service):
    _, url = service
    async with portal(url) as client:
        page = (await client.get("/lacak")).text
        form = {"csrf": hidden(page, "csrf"), "kind": "audiensi", "code": "AUD-1", "token": "t" * 20}
        for headers in (
            {"Sec-Fetch-Site": "cross-site"},
            {"Origin": "https://penipu.example"},
            {"Sec-Fetch-Site": "same-site", "Origin": "null"},
        ):
            refused = await client.post("/lacak", data=form, headers=headers)
            assert refused.status_code == 403 and "Formulir kedaluwarsa" in refused.text, headers
        for headers in (
            {"Origin": "http://portal.test", "Sec-Fetch-Site": "same-origin"},
            {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
        ):  # as under no-referrer
            same = await client.post("/lacak", data={**form, "code": ""}, headers=headers)
            assert same.status_code == 422 and "code-galat" in same.text  # read and checked


async def test_over_https_the_cookies_carry_the_host_and_secure_prefixes(service):
    _, url = service
    async with portal(url, secure_cookies=True) as client:
        answer = await client.get("/pengaduan")
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-serambi_csrf=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie
        form = {
            "csrf": hidden(answer.text, "csrf"),
            "idempotency": hidden(answer.text, "idempotency"),
            **COMPLAINT,
        }
        assert (await post_complaint(client, form)).status_code == 201  # the prefixed cookie is read
    async with portal(url) as plain:
        assert (await plain.get("/pengaduan")).headers["set-cookie"].startswith("serambi_csrf=")


async def test_a_dispute_the_service_finds_too_large_keeps_its_text_with_an_indonesian_message(service):
    fake, url = service
    fake.script = [413]
    reason = "\N{GRINNING FACE}" * 5000
    async with portal(url) as client:
        app = client._transport.app  # type: ignore[attr-defined]
        client.cookies.set(
            "serambi_lacak",
            app.state.runtime.secrets.seal("pengaduan:ADU-1", "t" * 43),
            domain="portal.test",
            path="/lacak/pengaduan/ADU-1",
        )
        page = (await client.get("/lacak/pengaduan/ADU-1")).text
        answer = await client.post(
            "/lacak/pengaduan/ADU-1/sanggah", data={"csrf": hidden(page, "csrf"), "reason": reason}
        )
    assert answer.status_code == 422 and "terlalu panjang untuk dikirim" in answer.text
    assert f">{reason}</textarea>" in answer.text


def test_the_services_errors_are_read_by_their_codes_not_their_wording():
    def error(*items: dict, status: int = 422) -> ApiError:
        return ApiError(status, list(items), "")

    assert field_errors(error({"field": "", "rule": "contact_required", "message": "?"})) == {
        "email": "Isi alamat email atau nomor HP agar kami dapat mengirim kabar."
    }
    assert "nama Anda" in field_errors(error({"field": "", "rule": "name_required", "message": "?"}))["name"]
    assert field_errors(error({"field": "email", "rule": "value_error", "message": "an email address"}))[
        "email"
    ].startswith("Isi alamat email yang benar")
    assert (
        field_errors(error({"field": "reason", "rule": "string_too_long", "message": ""}))["reason"]
        == "Alasan terlalu panjang."
    )
    assert field_errors(error(status=413)) == {
        "": "Formulir: isian ini tidak dapat diterima. Periksa kembali."
    }


async def test_a_streamed_file_part_is_left_open_for_the_form_to_close() -> None:
    """aiohttp closes a file part in a worker thread it does not wait for; the form closes its
    files too, and the two raced (a 500 after the service had accepted the complaint)."""
    with tempfile.TemporaryFile() as file:
        file.write(PNG)
        part = _Stream(file, "image/png")
        await part.close()
        await asyncio.sleep(0.1)  # what aiohttp would have closed is closed by now
        assert not file.closed


async def test_a_form_given_back_with_what_the_person_typed_is_never_stored_by_a_cache(service):
    fake, url = service
    fake.script = [503, 409, 429, 422, 422]  # banners, then the service refusing a field
    named = {**COMPLAINT, "disclosure": "named", "name": "Siti Aminah", "phone": "081234567890"}
    async with portal(url) as client:
        page = await client.get("/pengaduan")
        form = {"csrf": hidden(page.text, "csrf"), "idempotency": hidden(page.text, "idempotency"), **named}
        answers = [await post_complaint(client, form) for _ in range(4)]
        audience = (await client.get("/audiensi")).text
        answers.append(
            await client.post(
                "/audiensi",
                data={
                    "csrf": hidden(audience, "csrf"),
                    "requester_name": "Siti Aminah",
                    "nik": "3171234567890123",
                },
                files=[("request_letter", ("", b"", "application/octet-stream"))],
            )
        )
    assert [answer.status_code for answer in answers] == [503, 409, 429, 422, 422]
    for answer in answers:
        assert 'value="Siti Aminah"' in answer.text
        assert answer.headers["cache-control"] == "no-store"

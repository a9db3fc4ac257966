"""The portal's upload slots cannot be held by the slow or the refused (issue 19): stalled
uploads from one address leave the slots to everyone else, a stalled form is cut off after
SERAMBI_UPLOAD_READ_SECONDS with the "coba lagi" page, and a client over its rate limit gets
its form back filled in without ever taking a slot.

The portal runs in-process (``httpx.ASGITransport``, one transport per client address) against
a fake service on loopback that records what it receives."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from serambi_testing import localstack
from serambi_web.main import create_app
from serambi_web.settings import WebSettings

BOUNDARY = "stalled"
COMPLAINT = {"disclosure": "anonymous", "summary": "Antrean lama", "description": "Dua jam menunggu."}


@pytest.fixture
async def service() -> AsyncIterator[tuple[list[int], str]]:
    """A complaints API that takes every complaint (201) and counts them."""
    received: list[int] = []

    async def submit(request: web.Request) -> web.Response:
        received.append(len(await request.read()))
        return web.json_response(
            {"tracking_code": "ADU-2026-000001", "access_token": "a" * 43, "answer_due_at": None}, status=201
        )

    app = web.Application(client_max_size=60_000_000)
    app.router.add_post("/api/v1/complaints", submit)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield received, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def clients(url: str, *addresses: str, **settings: object) -> list[httpx.AsyncClient]:
    """One client per address, all on the same portal app."""
    app = create_app(
        WebSettings(
            intake_url=url, complaints_url=url, scheduling_url=url, backend_timeout_seconds=5, **settings
        )
    )
    return [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://portal.test"
        )
        for address in addresses
    ]


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return found.group(1)


async def form_of(client: httpx.AsyncClient) -> dict[str, str]:
    page = (await client.get("/pengaduan")).text
    return {"csrf": hidden(page, "csrf"), "idempotency": hidden(page, "idempotency"), **COMPLAINT}


async def stalled_post(
    client: httpx.AsyncClient, form: dict[str, str], until: asyncio.Event
) -> httpx.Response:
    """The form's fields and the start of a 5 MB attachment, then nothing until ``until``."""
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in form.items()
    )
    head += (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; filename="foto.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + b"\x89PNG\r\n\x1a\n"
        + bytes(100_000)
    )

    async def body() -> AsyncIterator[bytes]:
        yield head
        await until.wait()
        raise httpx.ReadError("the citizen's connection dropped")

    return await client.post(
        "/pengaduan",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}", "content-length": "5000000"},
    )


async def post(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await client.post(
        "/pengaduan",
        data=form,
        files=[("attachments", ("foto.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png"))],
    )


async def test_four_stalled_uploads_from_one_address_do_not_block_another_addresss_complaint(service):
    """The review's attack: four posts that stall after their first bytes took the portal's four
    slots, and every citizen's form with files waited, then got "coba lagi"."""
    received, url = service
    slow, citizen = clients(
        url,
        "203.0.113.7",
        "198.51.100.20",
        max_concurrent_uploads=4,
        upload_queue_seconds=2,
        upload_read_seconds=60,
    )
    release = asyncio.Event()  # never set: they stall until they go away
    async with slow, citizen:
        forms = [await form_of(slow) for _ in range(4)]
        hogs = [asyncio.create_task(stalled_post(slow, form, release)) for form in forms]
        await asyncio.sleep(0.3)  # every stalled post is in, as far as it goes
        portal = slow._transport.app.state.runtime  # type: ignore[attr-defined]
        started = time.monotonic()
        answer = await post(citizen, await form_of(citizen))
        took = time.monotonic() - started
        slots_free = portal.uploads._value  # noqa: SLF001 — what the four left to others
        waiting = len(portal.per_client)
        for hog in hogs:  # the attacker goes away
            hog.cancel()
        await asyncio.gather(*hogs, return_exceptions=True)
    assert answer.status_code == 201 and "ADU-2026-000001" in answer.text
    assert took < 1.5, f"the citizen waited {took:.1f} s"
    assert slots_free == 3  # one stalled post held one slot; the other three waited on their address
    assert waiting == 1 and len(portal.per_client) == 0  # one address, forgotten once it left
    assert len(received) == 1


async def test_a_stalled_upload_loses_its_slot_after_the_read_deadline_with_the_coba_lagi_page(service):
    received, url = service
    slow, citizen = clients(
        url,
        "203.0.113.7",
        "198.51.100.20",
        max_concurrent_uploads=1,
        upload_queue_seconds=5,
        upload_read_seconds=0.5,
    )
    release = asyncio.Event()
    async with slow, citizen:
        started = time.monotonic()
        hog = asyncio.create_task(stalled_post(slow, await form_of(slow), release))
        await asyncio.sleep(0.1)
        answer = await post(citizen, await form_of(citizen))  # waits for the only slot
        cut_off = await asyncio.wait_for(hog, 5)
        took = time.monotonic() - started
        release.set()
    assert cut_off.status_code == 503 and "coba lagi" in cut_off.text and cut_off.headers["retry-after"]
    assert answer.status_code == 201 and took < 3
    assert len(received) == 1


async def test_a_client_over_its_rate_limit_gets_its_form_back_without_taking_a_slot(service):
    received, url = service
    [client] = clients(
        url,
        "198.51.100.7",
        rate_limits={"submissions": 1, "lookups": 100, "link_resends": 5},
        max_concurrent_uploads=1,
        upload_queue_seconds=3,
    )
    async with client:
        form = await form_of(client)
        assert (await post(client, form)).status_code == 201
        slots = client._transport.app.state.runtime.uploads  # type: ignore[attr-defined]
        await slots.acquire()  # every slot taken: a post that needed one would wait, then 503
        started = time.monotonic()
        refused = await post(client, form)
        took = time.monotonic() - started
        slots.release()
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0 and took < 1
    assert "Terlalu banyak kiriman" in refused.text and ">Dua jam menunggu.</textarea>" in refused.text
    assert (
        'value="Antrean lama"' in refused.text and hidden(refused.text, "idempotency") == form["idempotency"]
    )
    assert len(received) == 1

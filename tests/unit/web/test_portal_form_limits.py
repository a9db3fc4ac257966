"""Forms without files: nothing spooled, a small body cap and a read deadline (the hostile
review's findings 1 and 2)."""

from __future__ import annotations

import inspect

import httpx
import pytest
from serambi_web.api.deps import checked_form
from serambi_web.main import create_app
from serambi_web.settings import WebSettings
from starlette import formparsers


def portal(**settings: object) -> httpx.AsyncClient:
    app = create_app(WebSettings(backend_timeout_seconds=5, **settings))
    transport = httpx.ASGITransport(app=app, client=("198.51.100.7", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://portal.test")


@pytest.fixture
def spooled(monkeypatch) -> list[object]:
    """Every file part the form parser spools (a temporary file in /tmp)."""
    made: list[object] = []
    real = formparsers.SpooledTemporaryFile

    def spy(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(formparsers, "SpooledTemporaryFile", spy)
    return made


def test_a_checked_form_takes_no_files_unless_the_route_asks():
    assert inspect.signature(checked_form).parameters["max_files"].default == 0


async def test_an_anonymous_sign_out_post_with_files_spools_nothing(spooled):
    files = [("f", (f"{i}.bin", b"x" * 1000, "application/octet-stream")) for i in range(4)]
    async with portal() as client:
        answer = await client.post("/petugas/keluar", data={"csrf": "x"}, files=files)
    assert answer.status_code in (400, 403)
    assert spooled == []

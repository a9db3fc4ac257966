"""An erasure's register entry is a register number, never free text (issue 19 review, item 3):
``PersonalDataErased.reference`` is mirrored to the integration bus and kept for ever, so a name,
a contact or a reason typed there could never be erased. The admin API refuses anything but
``serambi_kit.erasure.REFERENCE`` (letters, digits and . / _ -, 1 to 40) with a 422 naming
``reference`` — before it looks anyone up."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from serambi_kit.admin import ErasureBody, erasure_router
from serambi_kit.auth import TokenVerifier, issue_dev_token
from serambi_kit.http import _validation_error
from serambi_kit.settings import ServiceSettings
from serambi_kit.state import KitState, install

SETTINGS = ServiceSettings(environment="test")
ADMIN = {"Authorization": f"Bearer {issue_dev_token(SETTINGS, ['admin'], subject='admin-1')}"}
FREE_TEXT = [
    "Budi Santoso minta datanya dihapus",  # a name and a reason
    "REG 014",  # a space
    "siti@example.go.id",  # a contact
    "telp:081234567890",
    "REG-PDP/2026/014\nBudi",
    "R" * 41,
    "",
    "<b>REG</b>",
]


@pytest.fixture
async def api():
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(erasure_router("intake"))
    runtime = SimpleNamespace(settings=SETTINGS)  # no vault, no store: never reached here
    install(app, KitState(SETTINGS, runtime, TokenVerifier(SETTINGS)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client:
        yield client


@pytest.mark.parametrize("reference", FREE_TEXT)
async def test_free_text_as_the_register_entry_is_refused_naming_the_field(api, reference):
    answer = await api.post(
        "/api/v1/admin/personal-data/erase",
        json={"email": "siti@example.go.id", "reference": reference},
        headers=ADMIN,
    )
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "reference" and error["rule"] == "string_pattern_mismatch"


@pytest.mark.parametrize("reference", ["REG-PDP/2026/014", "017.PDP/II/2026", "A", "reg_2026-1", "R" * 40])
def test_a_register_number_is_accepted(reference):
    assert ErasureBody(nik="6171012301900001", reference=reference).reference == reference

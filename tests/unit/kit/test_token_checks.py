"""Secrets a caller presents are compared in constant time (issue 19: found sound, kept so):
the tracking access token (by its SHA-256, so both sides always have the same length) and the
SMS gateway's receipt secret."""

from __future__ import annotations

import hmac
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from serambi_kit import tracking_links
from serambi_kit.state import KitState, install
from serambi_kit.tracking_links import hash_token, token_matches
from serambi_notifier.api import routes as notifier_api


@pytest.fixture
def compared(monkeypatch) -> list[tuple]:
    calls: list[tuple] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tracking_links.hmac, "compare_digest", spy)
    monkeypatch.setattr(notifier_api.hmac, "compare_digest", spy)
    return calls


def test_a_tracking_token_is_compared_in_constant_time_by_its_hash(compared):
    token = "q7Rk2Lw9Xv4Tn8Ys1Pb6Hc3Jd5Mf0Gz-Ae_Uo2Ki7Wq"  # noqa: S105 — a sample
    assert token_matches(hash_token(token), token)
    assert not token_matches(hash_token(token), token[:-1])
    assert not token_matches(hash_token(token), "x")  # any length: the hashes are always 64 long
    assert [(len(a), len(b)) for a, b in compared] == [(64, 64)] * 3
    assert not token_matches(None, token)  # nothing stored: no match, nothing compared


def test_the_sms_gateways_receipt_secret_is_compared_in_constant_time(compared):
    app = FastAPI()
    app.include_router(notifier_api.router)
    settings = SimpleNamespace(
        sms_receipt_secret=SecretStr("receipt-secret-for-this-test"), sms_provider="json"
    )
    install(app, KitState(settings, SimpleNamespace(settings=settings)))
    client = TestClient(app)
    refused = client.post(
        "/api/v1/sms/receipts/json",
        json={"id": "x", "status": "DELIVRD"},
        headers={"X-Receipt-Secret": "wrong"},
    )
    assert refused.status_code == 401
    assert compared == [(b"wrong", b"receipt-secret-for-this-test")]

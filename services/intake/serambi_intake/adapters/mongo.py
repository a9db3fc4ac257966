"""The ports of ``application/ports.py`` on MongoDB: the read models the use cases consult, the
desk's paper survey entries and the tracking-code counter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from serambi_kit.mongo import Database
from serambi_kit.tracking_links import next_tracking_code

from .projections import REQUESTS, SURVEY_INVITATIONS_COLLECTION

PAPER_ENTRIES = "survey_paper_entries"  # who typed in which paper questionnaire (audit, intake only)


def _sealed_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        if {"key", "nonce", "data"} <= value.keys() and isinstance(value["key"], str):
            return {value["key"]}
        return set().union(*(_sealed_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_sealed_keys(v) for v in value))
    return set()


class MongoRequestViews:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def requester_key(self, tracking_code: str) -> str | None:
        found = await self.db[REQUESTS].find_one({"_id": tracking_code}, {"requester.name.key": 1})
        return found["requester"]["name"]["key"] if found and found.get("requester") else None

    async def subject_keys(self, tracking_code: str) -> list[str]:
        doc = await self.db[REQUESTS].find_one({"_id": tracking_code}, {"requester": 1, "identity_number": 1})
        return sorted(_sealed_keys(doc or {}))

    async def references(self, document_id: str) -> bool:
        return (
            await self.db[REQUESTS].find_one({"documents.document_id": document_id}, {"_id": 1}) is not None
        )


class MongoSurveyRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def invitation(self, token_hmac: str) -> dict[str, Any] | None:
        return await self.db[SURVEY_INVITATIONS_COLLECTION].find_one({"token_hmac": token_hmac})

    async def record_paper(self, response_id: str, officer: str, recorded_at: datetime) -> None:
        await self.db[PAPER_ENTRIES].insert_one(
            {"_id": response_id, "officer": officer, "recorded_at": recorded_at}
        )


class MongoTrackingCodes:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, year: int) -> str:
        return await next_tracking_code(self.db, "AUD", year)

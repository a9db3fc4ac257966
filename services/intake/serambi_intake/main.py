"""Intake's composition root: settings → runtime → consumers → HTTP app."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from faststream import FastStream
from serambi_calendar import live_calendar_from_env
from serambi_kit import asyncapi
from serambi_kit.admin import erasure_router
from serambi_kit.calendars import STREAM, CalendarRevisions
from serambi_kit.documents import DocumentStore
from serambi_kit.eventstore import read_stream
from serambi_kit.http import create_service_app
from serambi_kit.idempotency import IdempotencyKeys
from serambi_kit.logging import get_logger
from serambi_kit.periodic import Rounds, run_guarded, stop_before_runtime
from serambi_kit.runtime import Runtime

from . import application, subscribers
from .api import ROUTERS
from .deadlines import answer_due
from .projections import INDEXES
from .settings import IntakeSettings

log = get_logger(__name__)


def build_runtime(settings: IntakeSettings | None = None) -> Runtime:
    runtime = Runtime(settings or IntakeSettings())
    subscribers.register(runtime)
    return runtime


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)
    settings = runtime.settings
    calendar = live_calendar_from_env()  # new requests' deadlines: the override file and its revisions
    revisions = CalendarRevisions(
        calendar, lambda subjects, first: read_stream(runtime.nc, STREAM, subjects, from_sequence=first)
    )
    rounds = Rounds(lambda: runtime.db)

    async def on_started() -> None:
        db = runtime.db
        app.state.documents = DocumentStore(db, vault=runtime.vault)
        app.state.idempotency = IdempotencyKeys.from_settings(db, runtime.vault, settings)
        await app.state.idempotency.ensure_indexes()
        for collection, fields in INDEXES.items():
            for field in fields:
                await db[collection].create_index(field)
        swept = await application.sweep_documents(
            app.state.documents, db, timedelta(minutes=settings.pending_document_minutes)
        )
        log.info("documents.swept", deleted=swept)
        await run_guarded("calendar revisions", revisions.refresh)
        rounds.start(
            "intake-calendar-refresh", revisions.refresh, every=settings.calendar_refresh_seconds, lease=False
        )  # every replica

    app = create_service_app(
        runtime, title="Serambi intake", on_started=on_started, routers=[*ROUTERS, erasure_router("intake")]
    )  # erasure: the admin's
    app.state.answer_due = answer_due(calendar)
    app.state.calendar_revisions = revisions
    stop_before_runtime(app, rounds.stop)
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi intake")

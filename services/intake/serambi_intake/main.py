"""Intake's composition root: settings → runtime → consumers → HTTP app, and once the runtime is
connected the use cases' context (``application.context.Intake``), which the routes get through
``api/deps.py``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI
from faststream import FastStream
from serambi_calendar import live_calendar_from_env, policy_from_env
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
from serambi_kit.tracking_links import link_resends

from . import subscribers
from .adapters.mongo import MongoRequestViews, MongoSurveyRecords, MongoTrackingCodes
from .adapters.projections import INDEXES
from .api import ROUTERS
from .application.context import Intake
from .application.requests import sweep_documents
from .domain.deadlines import answer_due
from .settings import IntakeSettings

log = get_logger(__name__)


def build_runtime(settings: IntakeSettings | None = None) -> Runtime:
    runtime = Runtime(settings or IntakeSettings())
    subscribers.register(runtime)
    return runtime


def build_intake(runtime: Runtime, due: Callable[[datetime], datetime], documents: DocumentStore) -> Intake:
    """The use cases' context on the connected runtime."""
    db, settings = runtime.db, runtime.settings
    return Intake(
        store=runtime.store,
        vault=runtime.vault,
        documents=documents,
        requests=MongoRequestViews(db),
        surveys=MongoSurveyRecords(db),
        tracking_codes=MongoTrackingCodes(db),
        answer_due=due,
        idempotency=IdempotencyKeys.from_settings(db, runtime.vault, settings),
        link_resends=link_resends(settings),
    )


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)
    settings = runtime.settings
    calendar = live_calendar_from_env()  # new requests' deadlines: the override file and its revisions
    due = answer_due(calendar, policy_from_env())  # a broken calendar or policy stops start-up
    revisions = CalendarRevisions(
        calendar, lambda subjects, first: read_stream(runtime.nc, STREAM, subjects, from_sequence=first)
    )
    rounds = Rounds(lambda: runtime.db)

    async def create_indexes() -> None:
        """Before the consumers start (``Runtime.before_consuming``), on the context the routes
        then use: its document store knows its indexes are made."""
        documents = DocumentStore(runtime.db, vault=runtime.vault)
        intake = app.state.intake = build_intake(runtime, due, documents)
        assert intake.idempotency is not None
        await intake.idempotency.ensure_indexes()
        for collection, fields in INDEXES.items():
            for field in fields:
                await runtime.db[collection].create_index(field)
        await documents.create_indexes()

    runtime.before_consuming.append(create_indexes)

    async def on_started() -> None:
        intake: Intake = app.state.intake
        swept = await sweep_documents(
            intake.documents, intake.requests, timedelta(minutes=settings.pending_document_minutes)
        )
        log.info("documents.swept", deleted=swept)
        await run_guarded("calendar revisions", revisions.refresh)
        rounds.start(
            "intake-calendar-refresh", revisions.refresh, every=settings.calendar_refresh_seconds, lease=False
        )  # every replica

    app = create_service_app(
        runtime, title="Serambi intake", on_started=on_started, routers=[*ROUTERS, erasure_router("intake")]
    )  # erasure: the admin's
    stop_before_runtime(app, rounds.stop)
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi intake")

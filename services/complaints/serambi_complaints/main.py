"""Complaints' composition root: settings → rules → runtime → consumers → HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from serambi_kit import asyncapi
from serambi_kit.http import create_service_app
from serambi_kit.periodic import stop_before_runtime
from serambi_kit.runtime import Runtime

from .api import officer_router, public_router
from .api.common import complaint_error
from .api.whatsapp import router as whatsapp_router
from .domain import ComplaintError
from .service import ComplaintsService
from .settings import ComplaintsSettings

TITLE = "Serambi complaints"


def build_service(settings: ComplaintsSettings | None = None, **options) -> ComplaintsService:
    return ComplaintsService(settings or ComplaintsSettings(), **options)


def build_runtime(settings: ComplaintsSettings | None = None) -> Runtime:
    return build_service(settings).runtime


def create_app(
    settings: ComplaintsSettings | None = None, *, service: ComplaintsService | None = None
) -> FastAPI:
    service = service or build_service(settings)
    app = create_service_app(
        service.runtime,
        title=TITLE,
        routers=[public_router, officer_router, whatsapp_router],
        on_started=service.started,
    )
    app.state.complaints = service
    app.add_exception_handler(ComplaintError, complaint_error)
    stop_before_runtime(app, service.stopping)  # its rounds stop before the runtime does
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), TITLE)

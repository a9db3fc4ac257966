"""Scheduling's composition root: settings → runtime → consumers → HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from serambi_calendar import calendar_from_env
from serambi_contracts.intake import RequestSubmitted
from serambi_kit import asyncapi
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime

from . import api, domain, subscribers
from .settings import SchedulingSettings


def build_runtime(settings: SchedulingSettings | None = None) -> Runtime:
    settings = settings or SchedulingSettings()
    calendar = calendar_from_env()

    def slot_for(request: RequestSubmitted) -> domain.Slot:
        return domain.placeholder_slot(
            request.submitted_at, calendar, settings.placeholder_room, settings.placeholder_host
        )

    runtime = Runtime(settings)
    subscribers.register(runtime, slot_for)
    return runtime


def create_app(settings: SchedulingSettings | None = None) -> FastAPI:
    return create_service_app(
        build_runtime(settings), title="Serambi scheduling", routers=[api.router]
    )


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi scheduling")

"""Intake's composition root: settings → runtime → consumers → HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from serambi_kit import asyncapi
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime

from . import api, subscribers
from .deadlines import answer_due
from .settings import IntakeSettings


def build_runtime(settings: IntakeSettings | None = None) -> Runtime:
    runtime = Runtime(settings or IntakeSettings())
    subscribers.register(runtime)
    return runtime


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)
    app = create_service_app(runtime, title="Serambi intake", routers=[api.router])
    app.state.answer_due = answer_due()
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi intake")

"""Notifier's composition root. The service runs (health, metrics, its stream); deliveries are
issue #7."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from serambi_kit import asyncapi
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime

from .settings import NotifierSettings


def build_runtime(settings: NotifierSettings | None = None) -> Runtime:
    return Runtime(settings or NotifierSettings())


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    return create_service_app(build_runtime(settings), title="Serambi notifier")


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi notifier")

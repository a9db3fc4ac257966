"""Complaints' composition root. The service runs (health, metrics, its stream); the complaint
flow itself is issue #6."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from serambi_contracts.complaints import ComplaintReceived
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit import asyncapi
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime

from .settings import ComplaintsSettings


def build_runtime(settings: ComplaintsSettings | None = None) -> Runtime:
    runtime = Runtime(settings or ComplaintsSettings())
    runtime.publishes("complaints", "complaint", ComplaintReceived, SLAWarning, SLABreached)
    return runtime


def create_app(settings: ComplaintsSettings | None = None) -> FastAPI:
    return create_service_app(build_runtime(settings), title="Serambi complaints")


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi complaints")

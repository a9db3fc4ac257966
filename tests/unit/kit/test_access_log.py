"""One access log line per HTTP request (method, route template, status, duration, request id,
trace id) in every service and the portal, and the request's trace id on every line it causes;
never a path, a query string, a token or a header (issue 22, part 2)."""

from __future__ import annotations

import asyncio
import contextvars
import importlib
import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from unittest.mock import AsyncMock

import httpx
import pytest
import structlog
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from kit_log_pipeline import real_pipeline
from serambi_kit import http as http_module
from serambi_kit.accesslog import AccessLog, not_logged_yet, trace_id_from
from serambi_kit.http import create_service_app
from serambi_kit.logging import configure_logging, redact
from serambi_kit.runtime import Runtime
from serambi_kit.settings import ServiceSettings

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
CODE, TOKEN, SECRET = "REQ-2031-000123", "tok-9f8e7d6c5b4a39281706", "s3cr3t-query-token"
NIK = "6171012345670001"

router = APIRouter()


@router.get("/track/{code}/{token}")
async def track(code: str, token: str) -> dict[str, str]:
    structlog.get_logger("test").info("handler.ran")
    return {"ok": "yes"}


@router.get("/refused/{code}")
async def refused(code: str) -> None:
    raise HTTPException(403, "not yours")


@router.get("/answer/{status}")
async def answer(status: int) -> JSONResponse:
    return JSONResponse({"detail": "as asked"}, status_code=status)


@router.get("/boom/{code}")
async def boom(code: str) -> None:
    structlog.get_logger("test").info("handler.ran")
    raise RuntimeError("broken")


@pytest.fixture
def logs() -> Iterator[list[dict]]:
    """Every line, debug included, with the context a real line merges (``configure_logging``
    may have cached loggers at INFO in an earlier test: the middleware's logger is its own)."""
    saved = structlog.get_config()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG), cache_logger_on_first_use=False
    )
    try:
        with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as entries:
            yield entries
    finally:
        structlog.configure(**saved)


def client() -> TestClient:
    app = create_service_app(Runtime(ServiceSettings()), title="test", routers=[router])  # not started
    return TestClient(app, raise_server_exceptions=False)


def access(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry["event"] == "http.request"]


def test_one_line_per_request_with_the_route_template_never_the_path_or_query(logs):
    response = client().get(
        f"/track/{CODE}/{TOKEN}?token={SECRET}&email=siti@example.go.id",
        headers={"X-Request-Id": "req-42", "Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 200
    [line] = access(logs)
    assert line["method"] == "GET" and line["route"] == "/track/{code}/{token}" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["request_id"] == "req-42" == response.headers["x-request-id"]
    assert re.fullmatch("[0-9a-f]{32}", line["trace_id"]) and line["log_level"] == "info"
    text = repr(logs)
    for secret in (CODE, TOKEN, SECRET, "siti@example.go.id", "Bearer", "?"):
        assert secret not in text


def test_a_valid_traceparent_gives_its_trace_id_to_the_access_line_and_every_line_inside(logs):
    client().get(f"/track/{CODE}/{TOKEN}", headers={"traceparent": TRACEPARENT})
    handler = [entry for entry in logs if entry["event"] == "handler.ran"]
    assert [entry["trace_id"] for entry in handler + access(logs)] == [TRACE, TRACE]
    assert handler[0]["request_id"] == access(logs)[0]["request_id"]


async def test_the_ids_are_unbound_once_the_request_is_answered(logs):
    """The app runs in this test's own task (``httpx.ASGITransport`` awaits it directly; a
    ``TestClient`` runs it in a context of its own, where nothing left bound would show)."""
    app = create_service_app(Runtime(ServiceSettings()), title="test", routers=[router])
    structlog.contextvars.bind_contextvars(before="kept")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            response = await c.get(f"/track/{CODE}/{TOKEN}", headers={"traceparent": TRACEPARENT})
        assert response.status_code == 200
        [handler] = [entry for entry in logs if entry["event"] == "handler.ran"]
        assert handler["trace_id"] == TRACE  # bound in this very context while it ran
        assert structlog.contextvars.get_contextvars() == {"before": "kept"}
    finally:
        structlog.contextvars.unbind_contextvars("before")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "garbage",
        f"00-{TRACE}-00f067aa0ba902b7",  # no flags
        f"00-{TRACE.upper()}-00f067aa0ba902b7-01",  # uppercase
        f"00-{'0' * 32}-00f067aa0ba902b7-01",  # all-zero trace id
        f"00-{TRACE}-{'0' * 16}-01",  # all-zero parent id
        f"ff-{TRACE}-00f067aa0ba902b7-01",  # forbidden version
        f"00-{TRACE}-00f067aa0ba902b7-01-extra",  # version 00 has nothing after the flags
        f"00-{TRACE}0-00f067aa0ba902b7-01",  # 33 digits
    ],
)
def test_an_invalid_traceparent_is_replaced_by_a_new_trace_id(logs, bad):
    client().get(f"/track/{CODE}/{TOKEN}", headers={"traceparent": bad})
    trace_ids = {entry["trace_id"] for entry in logs}
    assert len(trace_ids) == 1
    [given] = trace_ids
    assert re.fullmatch("[0-9a-f]{32}", given) and given != TRACE


def test_the_traceparent_rule_itself():
    assert trace_id_from(TRACEPARENT) == TRACE
    assert trace_id_from(f"01-{TRACE}-00f067aa0ba902b7-01-later-fields") == TRACE  # a later version
    assert trace_id_from(None) != trace_id_from(None)


def test_unmatched_paths_and_refusals_are_logged_with_their_status_and_a_fixed_route(logs):
    c = client()
    assert c.get(f"/no/such/{CODE}?token={SECRET}").status_code == 404
    assert c.get(f"/refused/{CODE}").status_code == 403
    assert c.get(f"/track/{CODE}").status_code == 404
    lines = [(line["route"], line["status"], line["log_level"]) for line in access(logs)]
    assert lines == [("unmatched", 404, "info"), ("/refused/{code}", 403, "info"), ("unmatched", 404, "info")]
    assert CODE not in repr(logs) and SECRET not in repr(logs)


def test_a_crash_is_logged_once_as_a_500_with_its_traceback_and_the_request_ids(logs):
    response = client().get(f"/boom/{CODE}", headers={"traceparent": TRACEPARENT})
    assert response.status_code == 500
    [line] = access(logs)
    assert (line["route"], line["status"], line["log_level"], line["error"]) == (
        "/boom/{code}",
        500,
        "error",
        "RuntimeError",
    )
    assert line["trace_id"] == TRACE and line["exc_info"].args == ("broken",)
    # uvicorn's own "Exception in ASGI application" for it is dropped: logged already
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, "", 0, "Exception", (), (RuntimeError, line["exc_info"], None)
    )
    assert not not_logged_yet(record)
    other = RuntimeError("elsewhere")
    assert not_logged_yet(
        logging.LogRecord("uvicorn.error", logging.ERROR, "", 0, "x", (), (RuntimeError, other, None))
    )


def test_probes_and_metrics_are_logged_at_debug(logs):
    c = client()
    for path in ("/livez", "/metrics"):
        c.get(path)
    assert [(line["route"], line["log_level"]) for line in access(logs)] == [
        ("/livez", "debug"),
        ("/metrics", "debug"),
    ]


SERVICES = ("intake", "scheduling", "complaints", "notifier")


def service_app(name: str):
    if name == "web":
        from serambi_web.main import create_app
        from serambi_web.settings import WebSettings

        url = "http://127.0.0.1:9"  # never called
        return create_app(WebSettings(intake_url=url, complaints_url=url, scheduling_url=url))
    return importlib.import_module(f"serambi_{name}.main").create_app()  # not started


@pytest.mark.parametrize("name", [*SERVICES, "web"])
def test_every_service_and_the_portal_write_the_access_line(logs, name):
    c = TestClient(service_app(name), raise_server_exceptions=False)
    path = f"/survei/{TOKEN}" if name == "web" else "/docs/assets/swagger-ui.css"
    route = "/survei/{token}" if name == "web" else "/docs/assets/{name}"
    first = c.get(f"{path}?token={SECRET}", headers={"traceparent": TRACEPARENT}, follow_redirects=False)
    second = c.get(f"/api/v1/no-such-thing/{CODE}?token={SECRET}")
    assert second.status_code == 404
    lines = [(line["method"], line["route"], line["status"]) for line in access(logs)]
    assert lines == [("GET", route, first.status_code), ("GET", "unmatched", 404)]
    assert access(logs)[0]["trace_id"] == TRACE and "request_id" in access(logs)[1]
    assert TOKEN not in repr(logs) and SECRET not in repr(logs) and CODE not in repr(logs)


@pytest.fixture
def pipeline(monkeypatch) -> Iterator[Callable[[], list[dict]]]:
    """The services' real pipeline (``configure_logging``), on a stdout of its own; gives the
    JSON lines written so far."""
    with real_pipeline(monkeypatch, "test-service", "INFO") as lines:
        yield lines


def test_the_service_logging_pipeline_writes_the_line_as_json_with_the_ids(pipeline):
    c = client()
    c.get(f"/track/{CODE}/{TOKEN}?token={SECRET}", headers={"traceparent": TRACEPARENT})
    c.get("/livez")  # debug: not written at INFO
    lines = pipeline()
    [line] = [line for line in lines if line["event"] == "http.request"]
    assert line["service"] == "test-service" and line["trace_id"] == TRACE and line["request_id"]
    assert (line["route"], line["status"], line["level"]) == ("/track/{code}/{token}", 200, "info")
    assert [entry["trace_id"] for entry in lines if entry["event"] == "handler.ran"] == [TRACE]
    assert not_logged_yet in logging.getLogger("uvicorn.error").filters
    assert TOKEN not in repr(lines) and SECRET not in repr(lines) and CODE not in repr(lines)


def test_a_trace_id_with_sixteen_digits_in_a_row_is_not_taken_for_a_nik(pipeline):
    """About 0.17 % of random trace ids hold 16 decimal digits between two letters."""
    shaped = "260dc915eb9415583676506742eb2a71"
    c = client()
    c.get(
        f"/track/{CODE}/{TOKEN}",
        headers={"traceparent": f"00-{shaped}-00f067aa0ba902b7-01", "X-Request-Id": shaped},
    )
    c.get(f"/track/{CODE}/{TOKEN}", headers={"X-Request-Id": NIK})  # a caller's id is no id shape
    first, second = [line for line in pipeline() if line["event"] == "http.request"]
    assert (first["trace_id"], first["request_id"]) == (shaped, shaped)
    assert second["request_id"] == "[redacted-nik]" and NIK not in json.dumps(second)
    assert redact(f"trace {shaped}") != f"trace {shaped}"  # elsewhere the pattern still masks it


async def test_every_line_names_the_service_even_from_a_task_that_never_saw_the_lifespan(pipeline):
    """uvicorn runs each request in a task whose context is not the lifespan's: the service is
    not a context variable bound there, but a processor."""

    async def request_task() -> None:
        structlog.get_logger("test").info("in.request.task")
        logging.getLogger("some.library").warning("from the standard library")

    await asyncio.create_task(request_task(), context=contextvars.Context())
    lines = {line["event"]: line for line in pipeline()}
    assert lines["in.request.task"]["service"] == "test-service"
    assert lines["from the standard library"]["service"] == "test-service"


def test_the_real_lifespan_names_the_service_in_the_request_lines(monkeypatch):
    class Settings(ServiceSettings):
        service = "lifespan-service"

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    configure_logging("an-earlier-app")  # another app of this test process logged first: its
    http_module.log.info("warm.up")  # loggers were cached with its configuration (on first use)
    out.truncate(0)
    out.seek(0)
    runtime = Runtime(Settings())
    monkeypatch.setattr(runtime, "start", AsyncMock())  # no NATS, no database: only the logging
    monkeypatch.setattr(runtime, "stop", AsyncMock())
    app = create_service_app(runtime, title="test", routers=[router])
    try:
        with TestClient(app) as c:  # runs the lifespan, then each request in a context of its own
            c.get(f"/track/{CODE}/{TOKEN}")
    finally:
        structlog.configure(**saved)
        root.handlers[:], root.level = handlers, level
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["event"]: line["service"] for line in lines} == {
        "service.ready": "lifespan-service",
        "handler.ran": "lifespan-service",
        "http.request": "lifespan-service",
    }


@pytest.mark.parametrize(
    ("status", "level"), [(503, "warning"), (502, "error"), (500, "error"), (429, "info")]
)
def test_a_503_is_a_warning_other_5xx_errors_and_4xx_info(logs, status, level):
    assert client().get(f"/answer/{status}").status_code == status
    [line] = access(logs)
    assert (line["route"], line["status"], line["log_level"]) == ("/answer/{status}", status, level)


def test_the_portals_static_files_log_the_mount_path(logs):
    c = TestClient(service_app("web"))
    assert c.get("/static/serambi.css").status_code == 200
    assert c.get(f"/static/{CODE}.css").status_code == 404
    assert c.get(f"/staticky/{CODE}").status_code == 404
    assert [(line["route"], line["status"]) for line in access(logs)] == [
        ("/static", 200),
        ("/static", 404),
        ("unmatched", 404),
    ]
    assert CODE not in repr(logs)


@pytest.mark.parametrize("raised", [asyncio.CancelledError, KeyboardInterrupt])
async def test_a_cancelled_request_still_writes_its_line_as_a_499(logs, raised):
    async def app(scope, receive, send) -> None:
        structlog.get_logger("test").info("handler.ran")
        raise raised

    scope = {
        "type": "http",
        "method": "GET",
        "path": f"/track/{CODE}",
        "headers": [(b"traceparent", TRACEPARENT.encode())],
        "query_string": b"",
    }
    with pytest.raises(raised):
        await AccessLog(app)(scope, AsyncMock(), AsyncMock())
    [line] = access(logs)
    assert (line["route"], line["status"], line["log_level"], line["error"]) == (
        "unmatched",
        499,
        "warning",
        raised.__name__,
    )
    assert line["trace_id"] == TRACE and "exc_info" not in line


async def test_a_request_cancelled_after_its_answer_began_logs_the_status_sent(logs):
    async def app(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await AccessLog(app)(
            {"type": "http", "method": "GET", "path": "/", "headers": []}, AsyncMock(), AsyncMock()
        )
    [line] = access(logs)
    assert (line["status"], line["log_level"], line["error"]) == (200, "warning", "CancelledError")

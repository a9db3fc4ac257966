"""Upload routes of intake and complaints parse a form within tight limits and hold one of a
bounded number of upload slots (issue 19): a body of many small parts is refused while it
streams in with a 4xx naming the rule, and when every slot is taken an upload gets 503 with
Retry-After before its body is read — but only after its rate limit and roles were checked.

The apps are the services' own (``create_app``), called straight through ASGI; nothing is
started (no NATS, no MongoDB): every answer here comes before anything needs them."""

from __future__ import annotations

import asyncio
import importlib
import json

import pytest
from fastapi import FastAPI
from serambi_complaints.settings import ComplaintsSettings
from serambi_intake.settings import IntakeSettings
from serambi_kit.auth import issue_dev_token
from serambi_kit.settings import ServiceSettings
from serambi_kit.uploads import slots_of

MIB = 1024 * 1024
BOUNDARY = "x"
ROUTES = {  # route → (service, roles, field the files go in)
    "/api/v1/requests": ("intake", None, "request_letter"),
    "/api/v1/officer/requests": ("intake", ["desk"], "identity_document"),
    "/api/v1/complaints": ("complaints", None, "attachments"),
    "/api/v1/officer/complaints": ("complaints", ["complaint_officer"], "attachments"),
}
SETTINGS = {"intake": IntakeSettings, "complaints": ComplaintsSettings}


def part(name: str, content: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + content + b"\r\n"


def files(field: str, count: int, size: int) -> list[bytes]:
    return [part(field, b"%PDF-" + b"a" * (size - 5), f"{n}.pdf") for n in range(count)]


def body_of(parts: list[bytes]) -> list[bytes]:
    """The body in 64 KiB chunks."""
    data = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return [data[at : at + 64 * 1024] for at in range(0, len(data), 64 * 1024)]


class Post:
    """One POST through ASGI: its status, answer and the bytes the app read. ``stall`` makes the
    body stop after its first chunk until the event is set (then the client goes away)."""

    def __init__(
        self,
        app: FastAPI,
        path: str,
        chunks: list[bytes],
        *,
        roles: list[str] | None = None,
        client: str = "192.0.2.1",
        stall: asyncio.Event | None = None,
        content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
    ) -> None:
        self.app, self.path, self.chunks, self.stall = app, path, list(chunks), stall
        self.status, self.read, self.body, self.stalled = 0, 0, b"", asyncio.Event()
        self.headers = [
            (b"content-type", content_type.encode()),
            (b"content-length", str(sum(map(len, chunks))).encode()),
        ]
        if roles is not None:
            token = issue_dev_token(ServiceSettings(), roles, subject="officer-9")
            self.headers.append((b"authorization", f"Bearer {token}".encode()))
        self.client = client
        self.answer_headers: dict[str, str] = {}

    async def receive(self) -> dict:
        if self.stall is not None and self.read:
            self.stalled.set()
            await self.stall.wait()
            return {"type": "http.disconnect"}
        chunk = self.chunks.pop(0) if self.chunks else b""
        self.read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.answer_headers = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    async def __call__(self) -> Post:
        scope = {
            "type": "http",
            "method": "POST",
            "path": self.path,
            "raw_path": self.path.encode(),
            "root_path": "",
            "query_string": b"",
            "scheme": "http",
            "http_version": "1.1",
            "server": ("test", 80),
            "client": (self.client, 1234),
            "headers": self.headers,
        }
        await self.app(scope, self.receive, self.send)
        return self

    def errors(self) -> list[dict]:
        return json.loads(self.body)["errors"]


def app_of(service: str, **settings: object) -> FastAPI:
    return importlib.import_module(f"serambi_{service}.main").create_app(SETTINGS[service](**settings))


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    return {service: app_of(service) for service in SETTINGS}


@pytest.mark.parametrize("path", list(ROUTES))
def test_a_form_of_many_small_files_is_refused_while_it_streams_naming_the_rule(apps, path):
    """The review's body: 23 files of 1 MiB, under the request limit. Starlette's defaults kept
    each in memory (27 MB a request); now the file past the route's count stops the parse."""
    service, roles, field = ROUTES[path]
    post = asyncio.run(Post(apps[service], path, body_of(files(field, 23, MIB)), roles=roles)())
    assert post.status == 422, post.body
    [error] = post.errors()
    if service == "intake":
        assert (error["field"], error["rule"]) == ("form", "too_many_files")
        assert "Maximum number of files is 2" in error["message"]
    else:
        assert (error["field"], error["rule"]) == ("attachments", "too_many")
    assert post.read < 8 * MIB  # refused at the third (intake) or seventh file, not at the end


@pytest.mark.parametrize("path", list(ROUTES))
def test_a_form_of_many_text_fields_or_a_large_one_is_refused_naming_the_rule(apps, path):
    service, roles, _ = ROUTES[path]
    many = asyncio.run(
        Post(apps[service], path, body_of([part(f"f{n}", b"a" * 1000) for n in range(40)]), roles=roles)()
    )
    assert many.status == 422 and many.errors()[0]["rule"] == "too_many_fields", many.body
    large = asyncio.run(
        Post(
            apps[service],
            path,
            body_of([part("topic" if service == "intake" else "summary", b"a" * MIB)]),
            roles=roles,
        )()
    )
    assert large.status == 413, large.body
    assert large.errors()[0] | {"message": ""} == {"field": "form", "rule": "part_too_large", "message": ""}
    assert large.read < 2 * 64 * 1024 + 1024  # stopped at the 64 KiB limit of a text part


def test_the_limits_leave_room_for_every_field_of_the_forms(apps):
    """A complete request form with ten proposed dates passes the parser (it fails later, on a
    document's content, without a database), and so does an officer's complaint."""
    fields = [
        part(name, b"x")
        for name in (
            "requester_name",
            "requester_position",
            "institution",
            "institution_type",
            "email",
            "phone",
            "identity_number",
            "topic",
            "purpose",
            "participants",
        )
    ]
    fields += [part("proposed_dates", f"2031-01-{day:02d}".encode()) for day in range(1, 11)]
    documents = [part("request_letter", b"not a pdf", "a.pdf"), part("identity_document", b"nor", "b.png")]
    officer = fields + [part("channel", b"desk"), part("received_at", b"")]
    public = asyncio.run(Post(apps["intake"], "/api/v1/requests", body_of(fields + documents))())
    desk = asyncio.run(
        Post(apps["intake"], "/api/v1/officer/requests", body_of(officer + documents), roles=["desk"])()
    )
    for post in (public, desk):
        assert post.status == 422 and "form" not in {error["field"] for error in post.errors()}, post.body
    complaint = [
        part(name, b"x")
        for name in (
            "disclosure",
            "name",
            "email",
            "phone",
            "summary",
            "description",
            "channel",
            "received_at",
            "tier",
            "external_ref",
        )
    ]
    recorded = asyncio.run(
        Post(
            apps["complaints"],
            "/api/v1/officer/complaints",
            body_of(complaint + files("attachments", 6, 100)),
            roles=["complaint_officer"],
        )()
    )
    assert recorded.status == 422, recorded.body
    assert {error["field"] for error in recorded.errors()} != {"form"}


@pytest.mark.parametrize("path", list(ROUTES))
def test_with_every_upload_slot_taken_an_upload_is_503_before_its_body_is_read(path):
    service, roles, field = ROUTES[path]
    app = app_of(service, max_concurrent_uploads=1)

    async def scenario() -> tuple[Post, Post, Post, Post]:
        released = asyncio.Event()
        held = Post(
            app, path, body_of(files(field, 1, 300_000)), roles=roles, client="192.0.2.1", stall=released
        )
        holding = asyncio.create_task(held())
        await held.stalled.wait()  # its slot taken, its body being read
        refused = await Post(app, path, body_of(files(field, 1, 300_000)), roles=roles, client="192.0.2.2")()
        anonymous = await Post(app, path, body_of(files(field, 1, 300_000)), client="192.0.2.3")()
        released.set()
        await asyncio.gather(holding, return_exceptions=True)  # the client went away
        again = await Post(app, path, body_of([part("summary", b"x")]), roles=roles, client="192.0.2.2")()
        return refused, anonymous, held, again

    refused, anonymous, held, again = asyncio.run(scenario())
    assert refused.status == 503 and refused.read == 0 and refused.answer_headers["retry-after"] == "5"
    assert "1 uploads are in progress" in json.loads(refused.body)["error"]
    if roles:  # an officer route checks the token first: no slot for the anonymous
        assert anonymous.status == 401 and anonymous.read == 0
    assert held.status != 503
    assert again.status not in (503, 500), again.body  # the slot came back


def test_a_json_complaint_takes_no_upload_slot():
    app = app_of("complaints", max_concurrent_uploads=1)
    assert slots_of(app).take()  # every slot taken
    answer = asyncio.run(
        Post(app, "/api/v1/complaints", [b'{"summary": ""}'], content_type="application/json")()
    )
    assert answer.status == 422 and any(error["field"] == "summary" for error in answer.errors())

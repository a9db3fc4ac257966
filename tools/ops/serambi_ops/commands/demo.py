"""`serambi demo`: drive the audience flow against the running stack and print the timeline.

``submit_request`` is also the reference client of intake's multipart API (tests use it).
"""

from __future__ import annotations

import time

import httpx
import typer

# The smallest documents intake accepts: checked by content (magic bytes), not by name.
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SAMPLE_PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
SAMPLE_DOCUMENTS = {
    "request_letter": ("surat-permohonan.pdf", SAMPLE_PDF, "application/pdf"),
    "identity_document": ("identitas.png", SAMPLE_PNG, "image/png"),
}
DEMO_REQUEST = {
    "requester": {
        "name": "Rina Marlina",
        "position": "Kepala Bidang UMKM",
        "institution": "Dinas Koperasi dan UKM Kabupaten Kubu Raya",
        "institution_type": "local_government",
        "email": "rina.marlina@example.go.id",
        "phone": "0812-5555-0101",
    },
    "topic": "Koordinasi program pembiayaan UMKM",
    "purpose": "Audiensi dengan Biro Perekonomian tentang sinkronisasi program KUR daerah.",
    "participants": 4,
}


def request_form(body: dict) -> dict:
    """A request in the nested shape above as intake's multipart form fields."""
    requester = body.get("requester", {})
    fields = {
        "requester_name": requester.get("name"),
        "requester_position": requester.get("position"),
        "institution": requester.get("institution"),
        "institution_type": requester.get("institution_type"),
        "email": requester.get("email"),
        "phone": requester.get("phone"),
        "identity_number": requester.get("identity_number"),
        **{key: value for key, value in body.items() if key != "requester"},
    }
    return {key: value for key, value in fields.items() if value is not None}


def submit_request(
    intake_url: str,
    body: dict,
    files: dict | None = None,
    headers: dict | None = None,
    path: str = "/api/v1/requests",
    **fields: str,
) -> httpx.Response:
    """POST a request with its two documents (``files`` overrides them; a None entry drops one)."""
    chosen = {**SAMPLE_DOCUMENTS, **(files or {})}
    return httpx.post(
        f"{intake_url}{path}",
        data={**request_form(body), **fields},
        files={name: part for name, part in chosen.items() if part is not None},
        headers=headers,
        timeout=10.0,
    )


def demo(intake_url: str, timeout: float = 15.0) -> list[dict]:
    """Submit a request, wait until it is scheduled, return its timeline."""
    submitted = submit_request(intake_url, DEMO_REQUEST)
    submitted.raise_for_status()
    answer = submitted.json()
    typer.echo(f"submitted   {answer['tracking_code']}  answer due {answer['answer_due_at']}")
    headers = {"X-Access-Token": answer["access_token"]}
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=intake_url, timeout=5.0) as client:
        while time.monotonic() < deadline:
            view = client.get(answer["status_url"], headers=headers)
            if view.status_code == 200 and view.json()["status"] == "scheduled":
                return view.json()["timeline"]
            time.sleep(0.2)
    raise TimeoutError(f"{answer['tracking_code']} was not scheduled within {timeout:.0f}s")


def demo_command(
    intake_url: str = typer.Option("http://127.0.0.1:8001", help="the intake service"),
) -> None:
    """Submit an audience request and follow it until scheduling has answered."""
    try:
        timeline = demo(intake_url)
    except (httpx.HTTPError, TimeoutError) as exc:
        typer.echo(f"demo failed: {exc} — is the stack running (`make run`)?", err=True)
        raise typer.Exit(1) from None
    for entry in timeline:
        details = "".join(
            f"  {key}={value}"
            for key, value in entry.items()
            if key not in ("step", "at") and value is not None
        )
        typer.echo(f"{entry['at']}  {entry['step']:<12}{details}")

"""`serambi demo`: drive the audience flow against the running stack and print the timeline."""

from __future__ import annotations

import time

import httpx
import typer

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


def demo(intake_url: str, timeout: float = 15.0) -> list[dict]:
    """Submit a request, wait until it is scheduled, return its timeline."""
    with httpx.Client(base_url=intake_url, timeout=5.0) as client:
        submitted = client.post("/api/v1/requests", json=DEMO_REQUEST)
        submitted.raise_for_status()
        answer = submitted.json()
        typer.echo(f"submitted   {answer['tracking_code']}  answer due {answer['answer_due_at']}")
        headers = {"X-Access-Token": answer["access_token"]}
        deadline = time.monotonic() + timeout
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
        details = "".join(f"  {key}={value}" for key, value in entry.items() if key not in ("step", "at"))
        typer.echo(f"{entry['at']}  {entry['step']:<10}{details}")

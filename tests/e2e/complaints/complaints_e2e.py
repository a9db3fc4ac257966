"""Helpers of the complaints end-to-end tests: the shared stack, officers, waiting, events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
from serambi_calendar import WIB, package_days
from serambi_kit.auth import issue_dev_token
from serambi_kit.eventstore import read_stream
from serambi_kit.settings import ServiceSettings

ROLES = {
    "officer": ["complaint_officer"],
    "team": ["complaint_team"],
    "supervisor": ["supervisor"],
    "desk": ["desk"],
}


def headers(role: str = "officer") -> dict[str, str]:
    token = issue_dev_token(ServiceSettings(), ROLES[role], subject=f"{role}-1")
    return {"Authorization": f"Bearer {token}"}


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(instant: datetime) -> str:
    return instant.astimezone(WIB).isoformat()


def always_working_overrides(path: Path) -> Path:
    """An override file where every hour of every day is working time (no holidays), so SLA
    clocks run while the tests do."""
    lines = ['version = "always-working-test"', "", "[profiles.standard]"]
    lines += [f'{day} = ["00:00-24:00"]' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    year = datetime.now(WIB).year
    for entry in (*package_days(year), *package_days(year + 1)):
        lines += [
            "",
            "[[day]]",
            'action = "remove"',
            f"date = {entry.date.isoformat()}",
            'decree = "end-to-end tests: every day is a working day"',
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


class Client:
    """The complaints API of one running stack (or one replica of it)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def submit(self, **body: Any) -> httpx.Response:
        return httpx.post(f"{self.url}/api/v1/complaints", json=body)

    def track(self, code: str, token: str) -> httpx.Response:
        return httpx.get(f"{self.url}/api/v1/complaints/{code}", headers={"X-Access-Token": token})

    def record(self, role: str = "officer", **body: Any) -> httpx.Response:
        body.setdefault("channel", "telephone")
        body.setdefault("summary", "Layanan perizinan lambat")
        body.setdefault("description", "Permohonan saya belum dijawab.")
        body.setdefault("disclosure", "anonymous")
        return httpx.post(f"{self.url}/api/v1/officer/complaints", json=body, headers=headers(role))

    def recorded(self, **body: Any) -> dict:
        response = self.record(**body)
        assert response.status_code == 201, response.text
        return response.json()

    def act(self, code: str, action: str, role: str = "supervisor", **body: Any) -> httpx.Response:
        return httpx.post(
            f"{self.url}/api/v1/officer/complaints/{code}/{action}", json=body or None, headers=headers(role)
        )

    def details(self, code: str, role: str = "officer") -> httpx.Response:
        return httpx.get(f"{self.url}/api/v1/officer/complaints/{code}", headers=headers(role))

    def identity(self, code: str, role: str = "officer") -> httpx.Response:
        """The complainant's identity in clear (audited)."""
        return httpx.get(f"{self.url}/api/v1/officer/complaints/{code}/complainant", headers=headers(role))

    def queue(self, role: str = "officer", **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}/api/v1/officer/complaints", params=params, headers=headers(role))

    def wait_for(self, code: str, check: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        view: dict = {}
        while time.monotonic() < deadline:
            response = self.details(code)
            if response.status_code == 200:
                view = response.json()
                if check(view):
                    return view
            time.sleep(0.1)
        raise AssertionError(f"{code}: condition not reached; last view {view}")


def events(nats_url: str, code: str) -> list:
    async def read() -> list:
        nc = await nats.connect(nats_url)
        try:
            return [r.event async for r in read_stream(nc, "COMPLAINTS", f"complaints.complaint.{code}.*")]
        finally:
            await nc.drain()

    return asyncio.run(read())


def access_events(stack, code: str) -> list:
    """The case's audit trail: complaints.access.<code> (PersonalDataAccessed)."""

    async def read() -> list:
        nc = await nats.connect(stack.env["SERAMBI_NATS_URL"])
        try:
            return [r.event async for r in read_stream(nc, "COMPLAINTS", f"complaints.access.{code}.*")]
        finally:
            await nc.drain()

    return asyncio.run(read())


def raw_events(nats_url: str, code: str) -> list[bytes]:
    async def read() -> list[bytes]:
        nc = await nats.connect(nats_url)
        try:
            from serambi_kit.eventstore import read_raw

            return [data async for _, data in read_raw(nc, "COMPLAINTS", f"complaints.complaint.{code}.*")]
        finally:
            await nc.drain()

    return asyncio.run(read())


def of_type(items: list, kind: type) -> list:
    return [item for item in items if isinstance(item, kind)]


def received_for(deadline_in: float, hours: int = 3) -> datetime:
    """A receipt whose `hours` clock runs out `deadline_in` seconds from now (always-working)."""
    return now() - timedelta(hours=hours) + timedelta(seconds=deadline_in)

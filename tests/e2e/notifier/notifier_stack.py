"""The notifier end to end: intake and scheduling (running_stack of tests/e2e/conftest.py) plus
the notifier as its own OS process, delivering into the real local sinks of serambi_testing.sinks —
the aiosmtpd SMTP sink writing .eml files and the HTTP SMS sink writing sms.jsonl — started here
on free ports so the test can read what was sent and kill the notifier at a precise moment."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from serambi_testing import localstack
from serambi_testing.localstack import wait_ready
from serambi_testing.sinks import MailboxHandler, serving_sms, serving_smtp, sms_server
from serambi_testing.stack import running_stack, service_process


class KillingMailbox(MailboxHandler):
    """The ops SMTP sink, plus a trap: when armed, the next message of a notice is stored and the
    notifier is SIGKILLed before it hears the 250 — the server accepted, the sender never knew."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.trap: tuple[str, Callable[[], int | None]] | None = None
        self.killed = threading.Event()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        reply = await super().handle_DATA(server, session, envelope)
        headers = message_from_bytes(envelope.content, policy=policy.default)
        if self.trap and headers.get("X-Serambi-Notice") == self.trap[0]:
            pid = self.trap[1]()
            self.trap = None
            if pid:
                os.kill(pid, signal.SIGKILL)
                self.killed.set()
        return reply


@dataclass
class NotifierStack:
    stack: Any
    notifier: localstack.ManagedProcess
    url: str
    mail_dir: Path
    sms_log: Path
    mailbox: KillingMailbox

    def mails(self, case_id: str, duplicates: bool = False) -> list[EmailMessage]:
        directory = self.mail_dir / "duplicates" if duplicates else self.mail_dir
        found = [
            message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(directory.glob("*.eml"))
        ]
        return [m for m in found if m.get("X-Serambi-Case") == case_id]

    def sms(self, number: str) -> list[dict[str, Any]]:
        if not self.sms_log.exists():
            return []
        records = [json.loads(line) for line in self.sms_log.read_text().splitlines()]
        return [r for r in records if r["body"].get("to") == number]

    def restart_notifier(self) -> None:
        self.notifier.stop()
        self.notifier.start(ready_timeout=30)
        wait_ready(self.url)


def wait_for(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not reached in {timeout}s")


@contextmanager
def notifier_stack(
    base: Path, services: tuple[str, ...] = ("intake", "scheduling"), env: dict[str, str] | None = None
) -> Iterator[NotifierStack]:
    """The notifier with ``services``; ``env`` is added to every process's environment."""
    mail_dir, sms_dir = base / "var" / "mail", base / "var" / "sms"
    mailbox = KillingMailbox(mail_dir)
    with (
        serving_smtp(mailbox, localstack.free_port()) as smtp,
        serving_sms(sms_server(localstack.free_port(), sms_dir)) as sms,
        running_stack(base, services, env) as stack,
    ):
        port = localstack.free_port()
        env = {
            **stack.env,
            "SERAMBI_HTTP_PORT": str(port),
            "SERAMBI_SMTP_PORT": str(smtp.port),
            "SERAMBI_SMS_URL": f"http://127.0.0.1:{sms.server_address[1]}/json/messages",
            **(
                {"SERAMBI_LETTERS_BASE_URL": f"{stack.urls['scheduling']}/api/v1/letters"}
                if "scheduling" in stack.urls
                else {}
            ),
            "SERAMBI_QUIET_HOURS_START": "00:00",  # no quiet hours: tests run at any hour
            "SERAMBI_QUIET_HOURS_END": "00:00",
            "SERAMBI_DELIVERY_LEASE_SECONDS": "4",
            "SERAMBI_SMTP_TIMEOUT_SECONDS": "2",
            "SERAMBI_SMS_TIMEOUT_SECONDS": "2",
            "SERAMBI_DISPATCH_POLL_SECONDS": "0.2",
            "SERAMBI_CONTACT_WAIT_SECONDS": "2",
        }
        notifier = service_process("notifier", env, stack.logs, port).start(ready_timeout=30)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url)
            yield NotifierStack(stack, notifier, url, mail_dir, sms_dir / "sms.jsonl", mailbox)
        finally:
            notifier.stop()


def officer_headers(stack: NotifierStack, role: str = "supervisor") -> dict[str, str]:
    from serambi_kit.auth import issue_dev_token
    from serambi_kit.settings import ServiceSettings

    return {"Authorization": f"Bearer {issue_dev_token(ServiceSettings(), [role])}"}


def deliveries(stack: NotifierStack, **params: Any) -> list[dict[str, Any]]:
    response = httpx.get(f"{stack.url}/api/v1/deliveries", params=params, headers=officer_headers(stack))
    assert response.status_code == 200, response.text
    return response.json()["items"]

"""The portal in Debian's chromium, driven by Playwright, against the whole stack.

One stack per session (serambi_testing.stack: nats-server, SecantusDB, the SMTP and SMS sinks, the
four services and the portal, on free ports). Chromium is launched by path: `playwright install`
cannot download browsers here; `make test` installs Debian's package when it is missing.
Screenshots go to $SERAMBI_SHOTS (default /tmp/web-shots).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from serambi_testing.stack import LocalStack, local_stack, oidc_provider

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(os.environ.get("SERAMBI_SHOTS", "/tmp/web-shots"))  # noqa: S108 — screenshots to look at
PHONE = {"width": 360, "height": 780}
SAMPLE_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SAMPLE_PNG = (  # a real 1x1 PNG, so the browser and the services agree it is an image
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15"
    b"\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    services = ("intake", "scheduling", "complaints", "notifier", "web")
    with local_stack(tmp_path_factory.mktemp("portal"), services) as running:
        yield running


@pytest.fixture(scope="session")
def web(stack: LocalStack) -> str:
    return stack.url("web")


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The development OpenID provider the console modules sign in at (one per module)."""
    with oidc_provider(tmp_path_factory.mktemp("oidc")) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API runs an event loop in this thread for
    # as long as it is open, and every asyncio test after it would fail ("Runner.run() cannot
    # be called from a running event loop").
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=PHONE, locale="id-ID")
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Documents on disk for the file inputs."""
    directory = tmp_path_factory.mktemp("files")
    made = {
        "letter": ("surat-permohonan.pdf", SAMPLE_PDF),
        "id": ("ktp.png", SAMPLE_PNG),
        "photo": ("foto-loket.png", SAMPLE_PNG),
        "text": ("catatan.pdf", b"bukan pdf sungguhan"),
        "largest": ("surat-10mb.pdf", SAMPLE_PDF + b"0" * (10_000_000 - len(SAMPLE_PDF))),
        "too_large": ("surat-besar.pdf", SAMPLE_PDF + b"0" * 10_000_001),
    }
    paths = {}
    for key, (name, data) in made.items():
        paths[key] = directory / name
        paths[key].write_bytes(data)
    return paths


def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def mailed_link(stack: LocalStack, code: str, kind: str, timeout: float = 20.0, after: int = 0) -> str:
    """The tracking link in the (after+1)-th .eml that mentions ``code``."""
    pattern = re.compile(rf"https?://[^\s\"<>]+/lacak/{kind}/{re.escape(code)}#t=[A-Za-z0-9_-]+")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        links = []
        for path in sorted(stack.mail_dir.glob("**/*.eml"), key=lambda p: p.stat().st_mtime):
            message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    found = pattern.search(part.get_content())
                    if found:
                        links.append(found.group(0))
                        break
        if len(links) > after:
            return links[after]
        time.sleep(0.3)
    raise AssertionError(f"no e-mail with a link to {kind}/{code} in {stack.mail_dir}")

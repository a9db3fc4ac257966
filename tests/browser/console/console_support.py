"""What the console's browser tests share: the viewports, signing in on the development
provider's page, the axe check. The provider itself is the ``provider`` fixture of
tests/browser/conftest.py; ``oidc_env(provider)`` points a stack at it."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect
from serambi_ops.devidp.accounts import DEV_PASSWORD

DESKTOP = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}


def signed_in(
    browser: Browser, web: str, username: str, path: str, viewport: dict[str, int] = DESKTOP
) -> tuple[BrowserContext, Page]:
    """A new browser that opens ``path``, signs in on the provider's page and comes back."""
    context = browser.new_context(viewport=viewport, locale="id-ID", accept_downloads=True)
    page = context.new_page()
    page.goto(web + path)
    expect(page.get_by_role("heading", name="Masuk ke Serambi")).to_be_visible()
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(DEV_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(f"{web}{path}")
    return context, page


def no_serious_violations(page: Page, name: str) -> None:
    results = Axe().run(page)
    serious = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not serious, (name, [(v["id"], v["nodes"][0]["target"]) for v in serious])

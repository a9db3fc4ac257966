"""The survey's console screens in Debian's chromium, signed in through the development OpenID
provider, against a real intake: the desk types in a paper questionnaire (errors first), the
supervisor reads the figures it makes. Screenshots go to $SERAMBI_SHOTS (default /tmp/web-shots)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import shot
from console_support import TABLET, no_serious_violations, signed_in
from playwright.sync_api import expect
from serambi_calendar import WIB
from serambi_testing.stack import LocalStack, local_stack, oidc_env

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, provider: str) -> Iterator[LocalStack]:
    with local_stack(
        Path(tmp_path_factory.mktemp("console-survei")), ("intake", "web"), oidc_env(provider)
    ) as running:
        yield running


def test_a_paper_questionnaire_typed_in_at_the_desk_shows_in_the_supervisors_figures(console, browser):
    web = console.url("web")
    context, page = signed_in(browser, web, "meja", "/petugas/meja/survei", viewport=TABLET)
    page.get_by_role("button", name="Catat kuesioner").click()
    expect(page.locator(".ringkasan-galat")).to_be_visible()
    expect(page.locator("#service-galat")).to_contain_text("Pilih layanan")
    expect(page.locator("#U9-galat")).to_contain_text("U9 (Sarana dan prasarana)")
    no_serious_violations(page, "meja/survei galat")
    shot(page, "petugas-meja-survei-galat")

    page.get_by_label("Fasilitasi audiensi").check()
    for code, label in (
        ("U1", "Sesuai"),
        ("U2", "Mudah"),
        ("U3", "Kurang cepat"),
        ("U4", "Gratis"),
        ("U5", "Sesuai"),
        ("U6", "Kompeten"),
        ("U7", "Sopan dan ramah"),
        ("U8", "Berfungsi kurang maksimal"),
        ("U9", "Baik"),
    ):
        page.locator(f"#{code}").get_by_label(label, exact=True).check()
    page.get_by_label("Pekerjaan").select_option("wirausaha")
    page.get_by_label("Saran dan masukan").fill("Sediakan formulir kertas di ruang tunggu.")
    page.get_by_role("button", name="Catat kuesioner").click()
    expect(page.get_by_role("status")).to_contain_text("Kuesioner telah dicatat")
    no_serious_violations(page, "meja/survei")
    shot(page, "petugas-meja-survei")
    context.close()

    year = datetime.now(WIB).strftime("%Y")
    path = f"/petugas/pimpinan/survei?layanan=audiensi&periode={year}"
    context, page = signed_in(browser, web, "pimpinan", path)
    deadline = time.monotonic() + 20  # intake's read model follows the event
    while page.locator("#responden").inner_text() != "1":
        assert time.monotonic() < deadline, page.locator("#responden").inner_text()
        time.sleep(0.4)
        page.reload()
    # one respondent: the figures would be that person's own answers, so they are withheld
    # (figures from five respondents on: tests/integration/intake/test_survey_once.py)
    expect(page.locator("#ditahan")).to_contain_text(
        "terlalu sedikit responden untuk ditampilkan tanpa mengenali orangnya"
    )
    expect(page.locator("#ikm")).to_have_count(0)
    expect(page.get_by_role("row", name="U3 Waktu penyelesaian")).not_to_contain_text("Ya")
    expect(page.locator("main")).not_to_contain_text("Sediakan formulir kertas di ruang tunggu.")
    no_serious_violations(page, "pimpinan/survei")
    shot(page, "petugas-pimpinan-survei")
    context.close()

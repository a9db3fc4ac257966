"""The survey in the console, against an intake stand-in: the supervisor's figures page and the
desk's paper questionnaire (its errors, intake's refusals in Indonesian, the body it sends)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from console_stand_in import officer, signed_in
from serambi_testing import localstack

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ELEMENTS = [
    {
        "code": f"U{n}",
        "name": f"Unsur {n}",
        "question": f"Pertanyaan {n}?",
        "answers": [{"score": s, "label": f"Jawaban {n}.{s}"} for s in range(1, 5)],
    }
    for n in range(1, 10)
]
REPORT = {
    "service": "pengaduan",
    "period": "2026-S1",
    "population": 100,
    "sample_size": 80,
    "respondents": 5,
    "elements": [
        {
            "code": f"U{n}",
            "name": f"Unsur {n}",
            "nrr": 2.5 if n == 3 else 4.0,
            "weighted_nrr": 0.278 if n == 3 else 0.444,
            "priority": n == 3,
        }
        for n in range(1, 10)
    ],
    "ikm": 94.44,
    "category": "A",
    "category_label": "Sangat Baik",
    "priorities": ["U3"],
    "channels": {"online": 1, "paper": 1},
    "profile": {"sex": {"perempuan": 1}},
    "suggestions": ["Perbarui papan jadwal."],
    "min_respondents": 5,
    "withheld": False,
}
WITHHELD = {  # intake's report below five respondents
    **REPORT,
    "respondents": 2,
    "ikm": None,
    "category": None,
    "category_label": None,
    "priorities": [],
    "elements": [{**e, "nrr": None, "weighted_nrr": None, "priority": False} for e in REPORT["elements"]],
    "profile": {},
    "suggestions": [],
    "withheld": True,
    "withheld_reason": "terlalu sedikit responden untuk ditampilkan tanpa mengenali orangnya (kurang dari 5 responden)",
}


class Intake:
    def __init__(self) -> None:
        self.asked: list[dict[str, str]] = []
        self.posted: list[dict] = []
        self.answer = 201
        self.figures = REPORT

    async def instrument(self, _: web.Request) -> web.Response:
        return web.json_response({"elements": ELEMENTS})

    async def report(self, request: web.Request) -> web.Response:
        self.asked.append({**request.query, "auth": request.headers.get("Authorization", "")})
        if request.query.get("format") == "xlsx":
            return web.Response(body=b"PK\x03\x04survei", content_type=XLSX)
        if request.query.get("format") == "csv":
            return web.Response(
                body="\ufeffRingkasan SKM\r\n".encode(), content_type="text/csv", charset="utf-8"
            )
        return web.json_response(self.figures)

    async def paper(self, request: web.Request) -> web.Response:
        self.posted.append(await request.json())
        if self.answer >= 400:
            return web.json_response({"error": "unavailable"}, status=self.answer)
        return web.json_response({"status": "answered"}, status=self.answer)


@pytest.fixture
async def intake() -> AsyncIterator[tuple[Intake, str]]:
    state = Intake()
    app = web.Application()
    app.router.add_get("/api/v1/survey/instrument", state.instrument)
    app.router.add_get("/api/v1/officer/survey/report", state.report)
    app.router.add_post("/api/v1/officer/survey/paper", state.paper)
    runner = web.AppRunner(app)
    await runner.setup()
    port = localstack.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield state, f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_the_supervisor_sees_the_figures_of_the_service_and_period_asked_for(intake):
    state, url = intake
    async with signed_in(url, officer("pimpinan", ["supervisor"])) as client:
        page = await client.get(
            "/petugas/pimpinan/survei", params={"layanan": "pengaduan", "periode": "2026-S1"}
        )
        wrong = await client.get("/petugas/pimpinan/survei", params={"periode": "2026-S3"})
    assert page.status_code == 200, page.text[:500]
    assert state.asked[0]["service"] == "pengaduan" and state.asked[0]["period"] == "2026-S1"
    assert state.asked[0]["auth"] == "Bearer at"  # the officer's own token
    text = page.text
    assert "semester 1 tahun 2026" in text and 'id="ikm">94,44<' in text and "A (Sangat Baik)" in text
    assert 'id="sampel">80<' in text and "belum terpenuhi" in text
    assert re.search(r"U3 Unsur 3</th><td>2,50</td><td>0,278</td>\s*<td><strong>Ya</strong>", text)
    assert "Perbarui papan jadwal." in text and "Jenis kelamin:\n    Perempuan 1" in text
    assert wrong.status_code == 422 and "Isi periode" in wrong.text


async def test_the_supervisor_is_told_why_the_figures_of_few_respondents_are_withheld(intake):
    state, url = intake
    state.figures = WITHHELD
    async with signed_in(url, officer("pimpinan", ["supervisor"])) as client:
        page = await client.get(
            "/petugas/pimpinan/survei", params={"layanan": "pengaduan", "periode": "2026-S1"}
        )
    text = page.text
    assert page.status_code == 200 and 'id="responden">2<' in text and 'id="sampel">80<' in text
    assert "terlalu sedikit responden untuk ditampilkan tanpa mengenali orangnya" in text
    assert 'id="ikm"' not in text and "Belum ada jawaban" not in text


async def test_the_figures_download_as_csv_and_xlsx_relayed_from_intake_with_the_officers_token(intake):
    state, url = intake
    async with signed_in(url, officer("pimpinan", ["supervisor"])) as client:
        page = await client.get(
            "/petugas/pimpinan/survei", params={"layanan": "pengaduan", "periode": "2026-S1"}
        )
        xlsx = await client.get(
            "/petugas/pimpinan/survei.xlsx", params={"layanan": "pengaduan", "periode": "2026-S1"}
        )
        csv = await client.get(
            "/petugas/pimpinan/survei.csv", params={"layanan": "audiensi", "periode": "2026-03"}
        )
        wrong = await client.get("/petugas/pimpinan/survei.xlsx", params={"periode": "2026-S3"})
        other = await client.get("/petugas/pimpinan/survei.pdf")
    for ext in ("csv", "xlsx"):
        assert (
            f'href="/petugas/pimpinan/survei.{ext}?layanan=pengaduan&amp;periode=2026-S1" download'
            in page.text
        )
    assert "belum tersedia" not in page.text
    assert (
        xlsx.status_code == 200
        and xlsx.content == b"PK\x03\x04survei"
        and xlsx.headers["content-type"] == XLSX
    )
    assert 'filename="survei-pengaduan-2026-S1.xlsx"' in xlsx.headers["content-disposition"]
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfRingkasan SKM")
    assert (
        "attachment" in csv.headers["content-disposition"]
        and "survei-audiensi-2026-03.csv" in csv.headers["content-disposition"]
    )
    files = [asked for asked in state.asked if "format" in asked]
    assert files == [
        {"service": "pengaduan", "period": "2026-S1", "format": "xlsx", "auth": "Bearer at"},
        {"service": "audiensi", "period": "2026-03", "format": "csv", "auth": "Bearer at"},
    ]
    assert wrong.status_code == 422 and other.status_code in (404, 422)


async def test_the_download_is_for_supervisors_only(intake):
    state, url = intake
    async with signed_in(url, officer("meja", ["desk"])) as client:
        assert (await client.get("/petugas/pimpinan/survei.xlsx")).status_code == 403
    assert state.asked == []


def test_the_files_name_the_profile_as_the_console_form_does() -> None:
    from serambi_intake.api import exports
    from serambi_web.api.petugas.survei import SERVICES
    from serambi_web.api.portal.survei import PROFILE

    assert {
        field: (label, dict(options)) for field, (label, options) in PROFILE.items()
    } == exports.PROFILE_LABELS
    assert exports.SERVICE_NAMES == SERVICES


async def test_the_desk_form_names_what_is_missing_and_sends_the_answers_once_filled(intake):
    state, url = intake
    async with signed_in(url, officer("meja", ["desk"])) as client:
        form = await client.get("/petugas/meja/survei")
        assert form.status_code == 200, form.text[:500]
        assert "Pertanyaan 9?" in form.text and "Jawaban 4.4" in form.text
        [csrf] = re.findall(r'name="csrf" value="([^"]+)"', form.text)[-1:]
        empty = await client.post("/petugas/meja/survei", data={"csrf": csrf, "U1": "4"})
        assert empty.status_code == 422
        assert "U2 (Unsur 2): pilih salah satu jawaban." in empty.text and "Pilih layanan" in empty.text
        assert state.posted == []

        answers = {f"U{n}": "3" for n in range(1, 10)}
        # a case code is not asked for: without a service the questionnaire is refused
        coded = await client.post(
            "/petugas/meja/survei", data={"csrf": csrf, **answers, "case_code": "ADU-2026-000045"}
        )
        assert coded.status_code == 422 and "Pilih layanan" in coded.text and state.posted == []
        assert 'name="case_code"' not in form.text
        done = await client.post(
            "/petugas/meja/survei",
            data={
                "csrf": csrf,
                **answers,
                "service": "pengaduan",
                "sex": "laki_laki",
                "suggestion": "Antrean lebih tertib.",
            },
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"].endswith(
            "/petugas/meja/survei?selesai=survei"
        )
        assert state.posted[-1] == {
            "scores": {f"U{n}": 3 for n in range(1, 10)},
            "service": "pengaduan",
            "profile": {"sex": "laki_laki"},
            "suggestion": "Antrean lebih tertib.",
        }

        state.answer = 422
        refused = await client.post(
            "/petugas/meja/survei",
            data={"csrf": csrf, **answers, "service": "audiensi"},
            follow_redirects=False,
        )
        assert state.posted[-1]["service"] == "audiensi" and "case_code" not in state.posted[-1]
        assert refused.status_code == 422 and "belum dapat dicatat" in refused.text


async def test_other_roles_do_not_reach_the_survey_screens(intake):
    _, url = intake
    async with signed_in(url, officer("tim", ["complaint_team"])) as client:
        assert (await client.get("/petugas/pimpinan/survei")).status_code == 403
        assert (await client.get("/petugas/meja/survei")).status_code == 403


def test_the_portal_counts_a_suggestions_line_breaks_as_one_character_each() -> None:
    """A browser posts a textarea's line breaks as CRLF; its maxlength counted each as one."""
    from serambi_web.api.portal.survei import MAX_SUGGESTION, read_answers
    from starlette.datastructures import FormData

    lines = "\r\n".join(["a" * 99] * 20)  # 1,980 letters and 19 breaks: 1,999 characters typed
    posted = FormData([*((f"U{n}", "4") for n in range(1, 10)), ("suggestion", lines)])
    values, errors, body = read_answers(posted, ELEMENTS)
    assert errors == {} and len(body["suggestion"]) == 1999 <= MAX_SUGGESTION
    assert "\r" not in body["suggestion"]

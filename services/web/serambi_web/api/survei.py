"""Survei Kepuasan Masyarakat: the questionnaire an invitation's link opens, answered once.

The link is ``/survei/{token}`` (the notifier's ``SERAMBI_SURVEY_URL``): the token opens only
this anonymous, one-time questionnaire and shows nothing about the case, so unlike a tracking
link it is in the path — the form works without JavaScript. Pages are ``no-store`` and the
portal sends ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from serambi_kit.ratelimit import rate_limited
from starlette.datastructures import FormData

from ..adapters.backend import ApiError
from .deps import PortalDep, checked_form, render, text

router = APIRouter(dependencies=[Depends(rate_limited("lookups"))])
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,128}$")]
CODES = tuple(f"U{n}" for n in range(1, 10))
PROFILE = {
    "age_band": ("Usia", [
        ("under_20", "Di bawah 20 tahun"), ("20_29", "20–29 tahun"), ("30_39", "30–39 tahun"),
        ("40_49", "40–49 tahun"), ("50_59", "50–59 tahun"), ("60_plus", "60 tahun ke atas")]),
    "sex": ("Jenis kelamin", [("laki_laki", "Laki-laki"), ("perempuan", "Perempuan")]),
    "education": ("Pendidikan terakhir", [
        ("sd", "SD"), ("smp", "SMP"), ("sma", "SMA/sederajat"), ("diploma", "D1–D4"), ("s1", "S1"),
        ("s2", "S2"), ("s3", "S3")]),
    "occupation": ("Pekerjaan", [
        ("pns", "PNS"), ("tni", "TNI"), ("polri", "POLRI"), ("swasta", "Pegawai swasta"),
        ("wirausaha", "Wirausaha"), ("lainnya", "Lainnya")]),
}
SERVICES = {"audiensi": "fasilitasi audiensi", "pengaduan": "pengaduan"}
ALREADY = "Survei untuk layanan ini sudah diisi. Setiap layanan hanya dapat dinilai satu kali. Terima kasih."
MAX_SUGGESTION = 2000


def read_answers(posted: FormData, elements: list[dict[str, Any]],
                 extra: tuple[str, ...] = ()) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """The posted questionnaire: (values as typed, errors in Indonesian, intake's JSON body)."""
    values = {name: text(posted, name) for name in (*CODES, *PROFILE, "suggestion", *extra)}
    names = {element["code"]: element["name"] for element in elements}
    errors = {code: f"{code} ({names.get(code, code)}): pilih salah satu jawaban." for code in CODES
              if values[code] not in ("1", "2", "3", "4")}
    for name, (label, options) in PROFILE.items():
        if values[name] and values[name] not in dict(options):
            errors[name] = f"{label}: pilih salah satu pilihan."
    if len(values["suggestion"]) > MAX_SUGGESTION:
        errors["suggestion"] = f"Saran paling banyak {MAX_SUGGESTION} karakter."
    body = {
        "scores": {code: int(values[code]) for code in CODES if values[code] in ("1", "2", "3", "4")},
        "profile": {name: values[name] for name in PROFILE if values[name] and not errors.get(name)},
        "suggestion": re.sub(r"\s+\n", "\n", values["suggestion"]) or None,
    }
    return values, errors, body


def _page(request: Request, token: str, survey: dict[str, Any], values: dict[str, str],
          errors: dict[str, str], status_code: int = 200) -> HTMLResponse:
    return render(request, "survei.html", {
        "token": token, "survey": survey, "service": SERVICES.get(survey["service"], survey["service"]),
        "values": values, "errors": errors, "profile": PROFILE, "max_suggestion": MAX_SUGGESTION,
    }, status_code, private=True)


def _done(request: Request, status_code: int, already: bool) -> HTMLResponse:
    return render(request, "survei-selesai.html", {"already": already, "message": ALREADY},
                  status_code, private=True)


@router.get("/survei/{token}", response_class=HTMLResponse)
async def questionnaire(token: Token, request: Request, portal: PortalDep) -> HTMLResponse:
    survey = await portal.intake.survey(token)
    if survey is None:
        return render(request, "survei-tidak-ada.html", {}, 404, private=True)
    if survey["answered"]:
        return _done(request, 409, already=True)
    return _page(request, token, survey, {}, {})


@router.post("/survei/{token}", response_class=HTMLResponse)
async def answer(token: Token, request: Request, portal: PortalDep) -> HTMLResponse:
    posted = await checked_form(request, max_files=0)
    survey = await portal.intake.survey(token)
    if survey is None:
        return render(request, "survei-tidak-ada.html", {}, 404, private=True)
    values, errors, body = read_answers(posted, survey["elements"])
    if errors:
        return _page(request, token, survey, values, errors, 422)
    try:
        await portal.intake.answer_survey(token, body)
    except ApiError as exc:
        if exc.status == 409:
            return _done(request, 409, already=True)
        if exc.status == 404:
            return render(request, "survei-tidak-ada.html", {}, 404, private=True)
        raise
    return _done(request, 201, already=False)

"""Survei Kepuasan Masyarakat: the questionnaire an invitation's link opens, answered once.

The link is ``/survei/{token}`` (the notifier's ``SERAMBI_SURVEY_URL``). Its first GET exchanges
the token for a cookie — sealed like the tracking sessions (``Secrets.seal``, bound to
``survei``), HttpOnly, SameSite=Lax, Secure over HTTPS, Path ``/survei`` — and answers 303 to
``/survei``: the token leaves the address bar, the history and the requests the ingress logs
afterwards. The form (``/survei``) works from the cookie, without JavaScript. Pages are
``no-store`` and the portal sends ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from serambi_kit.ratelimit import rate_limited
from starlette.datastructures import FormData

from ...adapters.backend import ApiError
from ..deps import PortalDep, checked_form, portal_of, render, text

router = APIRouter(dependencies=[Depends(rate_limited("lookups"))])
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,128}$")]
CODES = tuple(f"U{n}" for n in range(1, 10))
PROFILE = {
    "age_band": (
        "Usia",
        [
            ("under_20", "Di bawah 20 tahun"),
            ("20_29", "20–29 tahun"),
            ("30_39", "30–39 tahun"),
            ("40_49", "40–49 tahun"),
            ("50_59", "50–59 tahun"),
            ("60_plus", "60 tahun ke atas"),
        ],
    ),
    "sex": ("Jenis kelamin", [("laki_laki", "Laki-laki"), ("perempuan", "Perempuan")]),
    "education": (
        "Pendidikan terakhir",
        [
            ("sd", "SD"),
            ("smp", "SMP"),
            ("sma", "SMA/sederajat"),
            ("diploma", "D1–D4"),
            ("s1", "S1"),
            ("s2", "S2"),
            ("s3", "S3"),
        ],
    ),
    "occupation": (
        "Pekerjaan",
        [
            ("pns", "PNS"),
            ("tni", "TNI"),
            ("polri", "POLRI"),
            ("swasta", "Pegawai swasta"),
            ("wirausaha", "Wirausaha"),
            ("lainnya", "Lainnya"),
        ],
    ),
}
SERVICES = {"audiensi": "fasilitasi audiensi", "pengaduan": "pengaduan"}
MAX_SUGGESTION = 2000


def read_answers(
    posted: FormData, elements: list[dict[str, Any]], extra: tuple[str, ...] = ()
) -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """The posted questionnaire: (values as typed, errors in Indonesian, intake's JSON body)."""
    values = {name: text(posted, name) for name in (*CODES, *PROFILE, "suggestion", *extra)}
    # a browser posts a textarea's line breaks as CRLF; its maxlength counted each as one
    values["suggestion"] = values["suggestion"].replace("\r\n", "\n")
    names = {element["code"]: element["name"] for element in elements}
    errors = {
        code: f"{code} ({names.get(code, code)}): pilih salah satu jawaban."
        for code in CODES
        if values[code] not in ("1", "2", "3", "4")
    }
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


SURVEY_PATH = "/survei"
SURVEY_CASE = "survei"  # what the sealed cookie is bound to
SURVEY_COOKIE = "serambi_survei"


def _cookie_name(request: Request) -> str:
    # Path=/survei rules out __Host-; over HTTPS __Secure- (a plain-HTTP page cannot set it)
    return f"__Secure-{SURVEY_COOKIE}" if portal_of(request).secrets.secure else SURVEY_COOKIE


def _token(request: Request) -> str | None:
    return portal_of(request).secrets.open(SURVEY_CASE, request.cookies.get(_cookie_name(request)))


def _page(
    request: Request,
    survey: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "survei.html",
        {
            "survey": survey,
            "service": SERVICES.get(survey["service"], survey["service"]),
            "values": values,
            "errors": errors,
            "profile": PROFILE,
            "max_suggestion": MAX_SUGGESTION,
        },
        status_code,
        private=True,
    )


def _done(request: Request, status_code: int, message: str | None = None) -> HTMLResponse:
    """Thanks (201), or intake's own "already answered" message relayed (409)."""
    return render(
        request,
        "survei-selesai.html",
        {"already": message is not None, "message": message},
        status_code,
        private=True,
    )


def _unknown(request: Request) -> HTMLResponse:
    return render(request, "survei-tidak-ada.html", {}, 404, private=True)


@router.get("/survei/{token}")
async def open_link(token: Token, request: Request, portal: PortalDep) -> Response:
    """The invitation's link: the token goes into the survey cookie, the browser to ``/survei``."""
    secrets = portal.secrets
    response = RedirectResponse(SURVEY_PATH, status_code=303)
    response.set_cookie(
        _cookie_name(request),
        secrets.seal(SURVEY_CASE, token),
        max_age=secrets.session_seconds,
        path=SURVEY_PATH,
        httponly=True,
        samesite="lax",
        secure=secrets.secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(SURVEY_PATH, response_class=HTMLResponse)
async def questionnaire(request: Request, portal: PortalDep) -> HTMLResponse:
    token = _token(request)
    survey = await portal.intake.survey(token) if token else None
    if survey is None:
        return _unknown(request)
    if survey["answered"]:
        return _done(request, 409, survey.get("message", ""))
    return _page(request, survey, {}, {})


@router.post(SURVEY_PATH, response_class=HTMLResponse)
async def answer(request: Request, portal: PortalDep) -> HTMLResponse:
    posted = await checked_form(request, max_files=0)
    token = _token(request)
    survey = await portal.intake.survey(token) if token else None
    if token is None or survey is None:
        return _unknown(request)
    values, errors, body = read_answers(posted, survey["elements"])
    if errors:
        return _page(request, survey, values, errors, 422)
    try:
        await portal.intake.answer_survey(token, body)
    except ApiError as exc:
        if exc.status == 409:
            return _done(request, 409, exc.errors[0]["message"] if exc.errors else exc.detail)
        if exc.status == 404:
            return _unknown(request)
        raise
    return _done(request, 201)

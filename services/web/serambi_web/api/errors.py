"""Every failure as a page in Indonesian: never a stack trace, never a back-end's words."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from serambi_kit.accesslog import route_of
from serambi_kit.logging import get_logger
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..adapters.backend import ApiError, BackendUnavailable, Throttled
from .deps import FormExpiredError, render
from .relay import UploadsBusy
from .security import HEADERS

log = get_logger(__name__)
PAGES = {
    400: ("Permintaan tidak dapat diproses", "Periksa kembali isian Anda, lalu coba lagi."),
    403: (
        "Formulir kedaluwarsa",
        "Formulir ini sudah tidak berlaku. Muat ulang halaman, isi lagi, lalu kirim.",
    ),
    404: ("Halaman tidak ditemukan", "Alamat yang Anda buka tidak ada. Periksa kembali tautannya."),
    405: ("Halaman tidak ditemukan", "Alamat yang Anda buka tidak ada. Periksa kembali tautannya."),
    408: (
        "Waktu pengiriman habis",
        "Kiriman Anda terlalu lama sampai. Muat ulang halaman, lalu kirim lagi.",
    ),
    411: ("Permintaan tidak dapat diproses", "Kirim ulang formulir dari halaman ini."),
    413: ("Berkas terlalu besar", "Kiriman Anda melebihi batas ukuran. Perkecil berkas, lalu kirim lagi."),
    429: ("Terlalu banyak permintaan", "Tunggu sebentar, lalu coba lagi."),
    503: (
        "Layanan sedang sibuk, coba lagi",
        "Maaf, layanan kami sedang tidak dapat dihubungi. Isian Anda belum terkirim. "
        "Coba lagi dalam beberapa menit.",
    ),
    500: (
        "Terjadi kesalahan, coba lagi",
        "Maaf, terjadi kesalahan pada layanan kami. Coba lagi dalam beberapa menit.",
    ),
}


class DateOutOfRange(Exception):
    """A date in the address (a list's filter, a week) that is a date, but one no day can be
    counted from (``9999-12-31``: the day after it, or its week's end, overflows)."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


def page(
    request: Request, status: int, headers: dict[str, str] | None = None, *, message: str | None = None
) -> HTMLResponse:
    title, default = PAGES.get(status, PAGES[500] if status >= 500 else PAGES[400])
    message = message or default
    response = render(request, "galat.html", {"title": title, "message": message, "status": status}, status)
    response.headers.update({**HEADERS, **(headers or {})})
    return response


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        return page(request, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def bad_path(request: Request, _: RequestValidationError) -> HTMLResponse:
        return page(request, 404)  # a malformed code in the address: nothing to show

    @app.exception_handler(DateOutOfRange)
    async def date_out_of_range(request: Request, exc: DateOutOfRange) -> HTMLResponse:
        return page(
            request,
            400,
            message=f"Tanggal pada isian “{exc.label}” di luar rentang yang dapat diproses. "
            "Isi tanggal yang benar, misalnya 2031-03-04.",
        )

    @app.exception_handler(FormExpiredError)
    async def expired(request: Request, _: FormExpiredError) -> HTMLResponse:
        return page(request, 403)

    @app.exception_handler(Throttled)
    async def throttled(request: Request, exc: Throttled) -> HTMLResponse:
        return page(request, 429, {"Retry-After": exc.retry_after or "60"})

    @app.exception_handler(UploadsBusy)
    async def busy(request: Request, _: UploadsBusy) -> HTMLResponse:
        log.warning("web.uploads_busy", route=route_of(request.scope))
        return page(request, 503, {"Retry-After": "30"})

    @app.exception_handler(BackendUnavailable)
    async def unavailable(request: Request, exc: BackendUnavailable) -> HTMLResponse:
        return page(request, 503, {"Retry-After": "30"})

    @app.exception_handler(ApiError)
    async def unexpected_answer(request: Request, exc: ApiError) -> HTMLResponse:
        log.warning("backend.unexpected_answer", status=exc.status, detail=exc.detail[:200])
        return page(request, 400 if exc.status < 500 else 503)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> HTMLResponse:
        # logged once, by the access line (serambi_kit.accesslog): the traceback, with the ids
        return page(request, 500)

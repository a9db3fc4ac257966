"""Administrasi: the dead letters of every service with their redrive, and a person's erasure.

Both over the services' admin APIs (``serambi_kit.admin``) with the officer's relayed token — the
same code as ``serambi dead-letters`` and ``serambi personal-data erase``; the services decide
(role ``admin``) and intake audits each erasure (``PersonalDataErased``).

- **Dead letter** ``GET /petugas/admin/dead-letter`` pages through the four services' records
  together, newest first: each service is asked for a page after its own cursor, the pages are
  merged, and the next page's link carries each service's cursor (``sebelum_<service>``; ``-``
  when it has no more). A service that does not answer is named, the others are listed.
- **Penghapusan data pribadi** ``GET /petugas/admin/penghapusan``: a form (NIK, telephone,
  e-mail, the register entry) → a confirmation page showing what will be searched, masked →
  the erasure, sent once (``Idempotency-Key`` made for the confirmation) → the key ids to
  record in the register.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from serambi_kit.erasure import REFERENCE
from serambi_kit.phones import phone_identifier
from serambi_kit.pii import mask_email, mask_phone
from starlette.datastructures import QueryParams

from ...adapters.backend import ApiError, Backend, BackendUnavailable
from ...adapters.session import PATH
from ...domain.access import AREAS, ROLE_NAMES, Officer
from ..deps import PortalDep, checked_form, portal_of, render, text
from .access import ConsoleRoute, allowed

AREA = next(area for area in AREAS if area.slug == "admin")
BASE = f"{PATH}/admin"
PAGE_SIZE = 25
SERVICES = {
    "intake": "Penerimaan permohonan (intake)",
    "scheduling": "Penjadwalan (scheduling)",
    "complaints": "Pengaduan (complaints)",
    "notifier": "Pemberitahuan (notifier)",
}
STATUSES = {
    "open": "Terbuka",
    "redrive": "Menunggu diproses ulang",
    "redriving": "Sedang diproses ulang",
    "redriven": "Sudah diproses ulang",
}
LISTED = ("open", "redrive", "redriven")
DONE = "habis"  # a service's cursor once it has no more records
ERASE_FIELDS = ("nik", "phone", "email", "reference")
ERASE_LABELS = {
    "nik": "NIK",
    "phone": "Nomor telepon",
    "email": "Alamat email",
    "reference": "Nomor register",
}
#: what to do instead with a dead letter a redrive cannot take (not a stream message), by consumer
INSTEAD = {
    "email-intake": "Ini surel dari kotak surat pengaduan, bukan pesan aliran, jadi tidak dapat dikirim "
    "ulang dari sini. Buka surelnya di folder surel yang ditolak (Serambi/Ditolak) pada "
    "kotak surat pengaduan, lalu catat pengaduannya lewat Catat pengaduan (kanal Email), "
    "atau pindahkan surel itu kembali ke Kotak Masuk agar dibaca ulang.",
    "lapor-import": "Ini butir impor SP4N-LAPOR!, bukan pesan aliran, jadi tidak dapat dikirim ulang: "
    "LAPOR! tidak memberikannya lagi. Baca pengaduannya di LAPOR!, lalu catat lewat Catat "
    "pengaduan (kanal SP4N-LAPOR!, nomor LAPOR! sebagai nomor rujukan).",
}
INSTEAD_OTHER = (
    "Pesan ini tidak berasal dari aliran pesan, jadi tidak dapat dikirim ulang. Tangani di "
    "sumbernya; alasannya ada di kolom Alasan."
)
REDRIVEN = (
    "Dead letter ditandai untuk diproses ulang. Layanannya memprosesnya dalam beberapa detik; "
    "bila gagal lagi, ia kembali terbuka dengan alasan baru."
)

router = APIRouter(route_class=ConsoleRoute)  # included by admin.router (prefix /admin)
Administrator = Annotated[Officer, Depends(allowed(AREA))]


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return render(
        request, template, {"ROLE_NAMES": ROLE_NAMES, "area": AREA, **context}, status_code, private=True
    )


def _backends(request: Request) -> dict[str, Backend | None]:
    portal = portal_of(request)
    return {
        "intake": portal.intake,
        "scheduling": portal.scheduling,
        "complaints": portal.complaints,
        "notifier": portal.notifier,
    }


# -- dead letters ------------------------------------------------------------------------------
async def _fetch(backend: Backend, officer: Officer, status: str, cursor: str) -> dict[str, Any]:
    params = {"status": status, "size": PAGE_SIZE, **({"before": cursor} if cursor else {})}
    return await backend.json("GET", "/api/v1/admin/dead-letters", params=params, headers=officer.bearer)


async def _letters(
    request: Request, officer: Officer, status: str, only: str, cursors: dict[str, str]
) -> dict[str, Any]:
    """One page over the chosen services, merged newest first, with each service's next cursor."""
    names = [only] if only in SERVICES else list(SERVICES)
    backends = _backends(request)
    asked = {name: backends[name] for name in names if backends[name] is not None and cursors[name] != DONE}
    answers = await asyncio.gather(
        *(_fetch(b, officer, status, cursors[n]) for n, b in asked.items()), return_exceptions=True
    )
    silent, results, found = [], {}, []
    for name, answer in zip(asked, answers, strict=True):
        if isinstance(answer, ApiError) and answer.status == 401:
            raise answer  # the session is over: sign in again
        if isinstance(answer, BackendUnavailable | ApiError):
            silent.append(name)
        elif isinstance(answer, BaseException):
            raise answer
        else:
            results[name] = answer
            found += [{**item, "service": name, "instead": _instead(item)} for item in answer["items"]]
    found.sort(key=lambda item: (datetime.fromisoformat(item["recorded_at"]), item["id"]), reverse=True)
    shown, left = found[:PAGE_SIZE], found[PAGE_SIZE:]
    following = dict(cursors)
    for name, answer in results.items():
        mine = [item for item in shown if item["service"] == name]
        more_of_it = answer["next_before"] is not None or any(item["service"] == name for item in left)
        if mine and more_of_it:
            following[name] = f"{mine[-1]['recorded_at']}|{mine[-1]['id']}"
        elif not more_of_it:
            following[name] = DONE
    more = any(following[name] != DONE for name in results)
    return {
        "rows": shown,
        "totals": {name: answer["total"] for name, answer in results.items()},
        "silent": silent,
        "unconfigured": [n for n in names if backends[n] is None],
        "next": following if more else None,
    }


def _instead(item: dict[str, Any]) -> str | None:
    """What to do with a dead letter a redrive cannot take, in words; None when it can."""
    if item.get("redrivable", True):  # a service that does not say: as before
        return None
    return INSTEAD.get(str(item.get("consumer")), INSTEAD_OTHER)


def short_type(event_type: str | None) -> str:
    """``id.go.kalbarprov.ekonomi.intake.GuestRegistered.v1`` → ``GuestRegistered``."""
    parts = (event_type or "").split(".")
    return parts[-2] if len(parts) > 2 else event_type or "—"


def _cursors(query: Any) -> dict[str, str]:
    return {name: str(query.get(f"sebelum_{name}", ""))[:400] for name in SERVICES}


def _link(status: str, only: str, cursors: dict[str, str] | None = None) -> str:
    query = {"status": status, "layanan": only}
    query |= {f"sebelum_{n}": c for n, c in (cursors or {}).items() if c}
    return f"{BASE}/dead-letter?{urlencode(query)}"


@router.get("/dead-letter")
async def dead_letters(
    request: Request, officer: Administrator, status: str = "open", layanan: str = "semua"
) -> Response:
    done = REDRIVEN if request.query_params.get("selesai") else None
    return await _dead_letters(request, officer, status, layanan, _cursors(request.query_params), done=done)


async def _dead_letters(
    request: Request,
    officer: Officer,
    status: str,
    only: str,
    cursors: dict[str, str],
    *,
    problem: str | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Response:
    status = status if status in LISTED else "open"
    only = only if only in SERVICES else "semua"
    found = await _letters(request, officer, status, only, cursors)
    here = _link(status, only, cursors)
    return _page(
        request,
        "petugas/admin/dead-letter.html",
        {
            "officer": officer,
            "status": status,
            "only": only,
            "SERVICES": SERVICES,
            "STATUSES": STATUSES,
            "LISTED": LISTED,
            **found,
            "problem": problem,
            "done": done,
            "first_page": not any(cursors.values()),
            "next_link": _link(status, only, found["next"]) if found["next"] else None,
            "first_link": _link(status, only),
            "here": here,
            "short_type": short_type,
        },
        status_code,
    )


@router.post("/dead-letter/kirim-ulang")
async def redrive(request: Request, officer: Administrator) -> Response:
    form = await checked_form(request, max_files=0)
    name, letter_id = text(form, "layanan"), text(form, "id")[:300]
    back = text(form, "kembali")
    back = back if back.startswith(f"{BASE}/dead-letter?") and "//" not in back else _link("open", "semua")
    backend = _backends(request).get(name)
    problem = None
    if backend is None or not letter_id:
        problem = "Dead letter itu tidak dikenal."
    else:
        try:
            await backend.json(
                "POST",
                f"/api/v1/admin/dead-letters/{quote(letter_id, safe=':')}/redrive",
                headers=officer.bearer,
            )
        except ApiError as exc:
            if exc.status == 401:
                raise
            problem = {
                403: "Peran Anda tidak mengizinkan langkah ini.",
                404: "Dead letter itu tidak ditemukan lagi di layanannya.",
                409: "Dead letter itu sudah tidak terbuka: sudah diminta diproses ulang atau sudah "
                "berhasil. Muat ulang daftar untuk melihat keadaannya.",
            }.get(exc.status, "Permintaan tidak dapat diproses.")
            if any(item.get("rule") == "not_redrivable" for item in exc.errors):  # not a stream message
                problem = _instead({"redrivable": False, "consumer": letter_id.split(":")[0]})
    if problem is None:
        return RedirectResponse(f"{back}&selesai=1", status_code=303)
    query = QueryParams(back.partition("?")[2])
    return await _dead_letters(
        request,
        officer,
        query.get("status", "open"),
        query.get("layanan", "semua"),
        _cursors(query),
        problem=problem,
        status_code=409,
    )


# -- erasure -----------------------------------------------------------------------------------
def mask_nik(nik: str) -> str:
    return nik[:4] + "*" * 8 + nik[-4:] if len(nik) == 16 else "****"


def _checked(values: dict[str, str]) -> dict[str, str]:
    """What the officer must fix before the confirmation, per field (the service checks again)."""
    errors: dict[str, str] = {}
    if not any(values[name] for name in ("nik", "phone", "email")):
        errors["nik"] = "Isi sedikitnya satu pengenal: NIK, nomor telepon atau alamat email."
    if values["nik"] and not re.fullmatch(r"[0-9]{16}", values["nik"]):
        errors["nik"] = "NIK terdiri atas 16 angka."
    if values["phone"] and not re.fullmatch(r"\+?[0-9 ().-]{6,32}", values["phone"]):
        errors["phone"] = "Nomor telepon hanya angka (boleh diawali +, dipisah spasi atau tanda hubung)."
    if values["email"] and not re.fullmatch(r"[^@\s]{1,64}@[^@\s]{1,253}", values["email"]):
        errors["email"] = "Alamat email belum benar, misalnya nama@contoh.go.id."
    if not values["reference"]:
        errors["reference"] = "Isi nomor register permintaan penghapusan (catatan biro)."
    elif not re.fullmatch(REFERENCE, values["reference"]):  # kept for ever in the audit event
        errors["reference"] = (
            "Nomor register hanya huruf, angka dan tanda . / _ - tanpa spasi, "
            "paling banyak 40 karakter, misalnya REG-PDP/2026/014. "
            "Jangan tulis nama atau alasan."
        )
    return errors


def _erase_form(
    request: Request,
    officer: Officer,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        "petugas/admin/penghapusan.html",
        {
            "officer": officer,
            "values": values or {},
            "errors": errors or {},
            "problem": problem,
            "LABELS": ERASE_LABELS,
        },
        status_code,
    )


@router.get("/penghapusan")
async def erase_form(request: Request, officer: Administrator) -> Response:
    return _erase_form(request, officer)


def _values(form: Any) -> dict[str, str]:
    values = {name: text(form, name)[:254] for name in ERASE_FIELDS}
    values["reference"] = values["reference"][:100]
    return values


@router.post("/penghapusan/periksa")
async def erase_confirm(request: Request, officer: Administrator) -> Response:
    """The confirmation step: what will be searched, masked, and a key that sends it once."""
    values = _values(await checked_form(request, max_files=0))
    if errors := _checked(values):
        return _erase_form(request, officer, values, errors, "Isian belum lengkap. Periksa kembali.", 422)
    return _confirmation(request, officer, values, secrets.token_urlsafe(18))


def _confirmation(
    request: Request,
    officer: Officer,
    values: dict[str, str],
    key: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    shown = {
        "nik": mask_nik(values["nik"]) if values["nik"] else None,
        "phone": mask_phone(phone_identifier(values["phone"])) if values["phone"] else None,
        "email": mask_email(values["email"]) if values["email"] else None,
    }
    return _page(
        request,
        "petugas/admin/penghapusan-konfirmasi.html",
        {
            "officer": officer,
            "values": values,
            "shown": shown,
            "key": key,
            "LABELS": ERASE_LABELS,
            "errors": errors or {},
        },
        status_code,
    )


@router.post("/penghapusan/hapus")
async def erase(request: Request, portal: PortalDep, officer: Administrator) -> Response:
    form = await checked_form(request, max_files=0)
    values, key = _values(form), text(form, "kunci")[:64]
    if errors := _checked(values):
        return _erase_form(request, officer, values, errors, "Isian belum lengkap. Periksa kembali.", 422)
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,64}", key):
        key = secrets.token_urlsafe(18)
    if text(form, "yakin") != "ya":
        return _confirmation(
            request,
            officer,
            values,
            key,
            {
                "yakin": "Centang pernyataan ini setelah identitas pemohon dan dasar permintaannya "
                "dipastikan.",
            },
            422,
        )
    body = {name: values[name] for name in ("nik", "phone", "email") if values[name]}
    try:
        done = await portal.intake.json(
            "POST",
            "/api/v1/admin/personal-data/erase",
            json={**body, "reference": values["reference"]},
            headers={**officer.bearer, "Idempotency-Key": f"console-{key}"},
        )
    except ApiError as exc:
        if exc.status == 401:
            raise
        if exc.status == 403:
            return _erase_form(request, officer, values, {}, "Peran Anda tidak mengizinkan langkah ini.", 403)
        fields = {str(item.get("field", "")).split(".")[-1]: item for item in exc.errors}
        errors = {
            name: f"{ERASE_LABELS[name]} tidak diterima layanan. Periksa kembali."
            for name in fields
            if name in ERASE_LABELS
        }
        return _erase_form(
            request,
            officer,
            values,
            errors or {"nik": "Isian tidak diterima layanan."},
            "Isian belum dapat diterima. Periksa kembali.",
            422,
        )
    return _page(
        request,
        "petugas/admin/penghapusan-selesai.html",
        {
            "officer": officer,
            "done": done,
            "at": datetime.fromisoformat(done["requested_at"]),
            "KINDS": {"nik": "NIK", "phone": "nomor telepon", "email": "alamat email", "key": "kunci data"},
        },
    )

"""The answer letter (surat jawaban kesediaan dan jadwal): a PDF, stored, referenced by events.

- ``render`` makes the PDF from plain values (deterministic: same content, same bytes).
- ``LetterStore`` keeps letters in scheduling's database (collection ``letters``) under an
  unguessable id: ``L`` + 32 base64url characters of HMAC-SHA256(letter secret, audience id and
  the PDF's digest) — 192 bits, derived, so a retried decision finds the letter it stored. The id
  is the capability of the public link ``GET /api/v1/letters/{document_id}`` that intake's
  tracking view shows the requester (docs/scheduling.md, "answer letters").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_contracts.intake import DocumentRef

from .domain.audience import Placement
from .domain.time import wib

LETTERS = "letters"
MEDIA_TYPE = "application/pdf"
KIND = "answer_letter"
LETTERHEAD = (
    "PEMERINTAH PROVINSI KALIMANTAN BARAT",
    "SEKRETARIAT DAERAH",
    "BIRO PEREKONOMIAN",
)
ADDRESS = (
    "Jl. Jenderal Ahmad Yani, Bangka Belitung Laut, Kec. Pontianak Tenggara, "
    "Kota Pontianak, Kalimantan Barat 78124",
    "Telepon (0561) 736541 - Pos-el biroekonomi@kalbarprov.go.id",
)
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
          "September", "Oktober", "November", "Desember")
_PLAIN = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'",
                        "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u00a0": " "})


@dataclass(frozen=True, slots=True)
class LetterContent:
    kind: str  # "scheduled" | "rescheduled" | "declined"
    reference: str
    issued_at: datetime
    institution: str
    requester_position: str
    topic: str | None  # None once the requester's personal data was erased: the letter omits it
    submitted_at: datetime
    participants: int
    signatory: str
    placement: Placement | None = None
    previous: tuple[datetime, datetime] | None = None
    reason: str | None = None


def long_date(instant: datetime) -> str:
    local = wib(instant)
    return f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year}"


def _plain(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _body(c: LetterContent) -> list[str]:
    opening = (
        f"Menindaklanjuti surat permohonan fasilitasi rapat/audiensi dari {c.institution} "
        f"yang kami terima pada {long_date(c.submitted_at)} dengan nomor registrasi "
        f"{c.reference}, " + (f"perihal \"{c.topic}\", " if c.topic else "")
    )
    if c.kind == "declined":
        return [opening + "dengan hormat kami sampaikan bahwa permohonan tersebut belum dapat "
                f"kami penuhi, dengan alasan: {c.reason}.",
                "Saudara dapat mengajukan permohonan baru pada waktu yang lain."]
    if c.kind == "rescheduled" and c.previous:
        moved = (f"jadwal audiensi yang semula {long_date(c.previous[0])} pukul "
                 f"{wib(c.previous[0]):%H.%M} WIB diubah ({c.reason}) menjadi:")
        return [opening + moved]
    return [opening + "dengan ini kami sampaikan bahwa Biro Perekonomian Sekretariat Daerah "
            "Provinsi Kalimantan Barat bersedia menerima audiensi tersebut pada:"]


def render(c: LetterContent) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(c.issued_at.astimezone(UTC))
    pdf.set_producer("Serambi")
    pdf.set_title(f"Surat jawaban permohonan audiensi {c.reference}")
    pdf.set_margins(20, 15, 20)
    pdf.add_page()
    for index, line in enumerate(LETTERHEAD):
        pdf.set_font("Helvetica", "B", 14 if index == 2 else 12)
        pdf.cell(0, 6, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=8)
    for line in ADDRESS:
        pdf.cell(0, 4, _plain(line), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.line(20, pdf.get_y() + 2, 190, pdf.get_y() + 2)
    pdf.ln(6)
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 5, f"Pontianak, {long_date(c.issued_at).split(', ')[1]}", align="R",
             new_x="LMARGIN", new_y="NEXT")
    for label, value in (("Nomor", f"{c.reference}/AUD/BIRO-EKON"), ("Sifat", "Biasa"),
                         ("Lampiran", "-"), ("Perihal", "Jawaban Permohonan Audiensi")):
        pdf.cell(25, 5, label)
        pdf.cell(0, 5, _plain(f": {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for line in ("Yth.", c.requester_position, c.institution, "di tempat"):
        pdf.cell(0, 5, _plain(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for paragraph in _body(c):
        pdf.multi_cell(0, 5, _plain(paragraph), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    if c.placement is not None and c.kind != "declined":
        p = c.placement
        rows = (("Hari, tanggal", long_date(p.starts_at)),
                ("Waktu", f"{wib(p.starts_at):%H.%M} - {wib(p.ends_at):%H.%M} WIB"),
                ("Tempat", f"{p.room}, {p.location}" if p.location else p.room),
                ("Diterima oleh", p.host),
                ("Peserta", f"paling banyak {c.participants} orang"))
        for label, value in rows:
            pdf.set_x(30)
            pdf.cell(32, 5, label)
            pdf.multi_cell(0, 5, _plain(f": {value}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.multi_cell(0, 5, "Mohon hadir 15 menit sebelum acara dengan membawa surat permohonan "
                       "dan tanda pengenal. Layanan ini tidak dipungut biaya.",
                       new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.multi_cell(0, 5, "Demikian disampaikan, atas perhatiannya diucapkan terima kasih.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_x(120)
    pdf.multi_cell(0, 5, _plain(f"{c.signatory},\n\n\n(ditandatangani secara elektronik)"),
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


class LetterStore:
    """Letters in MongoDB, under ids derived with a secret (unguessable, stable on retries)."""

    def __init__(self, db: AsyncDatabase, secret: str) -> None:
        self.collection = db[LETTERS]
        self._secret = secret.encode()

    def document_id(self, audience_id: str, digest: str) -> str:
        mac = hmac.new(self._secret, f"{audience_id}:{digest}".encode(), hashlib.sha256).digest()
        return "L" + base64.urlsafe_b64encode(mac).decode()[:32]

    async def put(self, audience_id: str, content: bytes, now: datetime) -> DocumentRef:
        digest = hashlib.sha256(content).hexdigest()
        document_id = self.document_id(audience_id, digest)
        try:
            await self.collection.insert_one({
                "_id": document_id, "audience_id": audience_id, "kind": KIND,
                "media_type": MEDIA_TYPE, "sha256": digest, "size": len(content),
                "content": content, "created_at": now,
            })
        except DuplicateKeyError:
            pass  # the same letter, stored by an earlier attempt
        return DocumentRef(document_id=document_id, kind=KIND, media_type=MEDIA_TYPE,
                           sha256=digest, size=len(content))

    async def get(self, document_id: str) -> dict | None:
        return await self.collection.find_one({"_id": document_id})

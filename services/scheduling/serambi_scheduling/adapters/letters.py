"""The answer letter (surat jawaban kesediaan dan jadwal): a PDF, stored sealed, referenced by events.

- ``render`` makes the PDF from plain values (deterministic: same content, same bytes).
- ``LetterStore`` keeps letters in scheduling's database (collection ``letters``) under an
  unguessable id: ``L`` + 32 base64url characters of HMAC-SHA256(letter secret, audience id and
  the PDF's digest) — 192 bits, derived, so a retried decision finds the letter it stored. The id
  is the capability of the public link ``GET /api/v1/letters/{document_id}`` that intake's
  tracking view shows the requester (docs/scheduling.md, "answer letters").
- A letter names the requester's institution and position and the topic they typed: it is the
  requester's personal data, so it is stored **sealed** under their data key (``key``; AES-256-GCM,
  ``Vault.seal_bytes``, the letter's id as associated data) in ``sealed``. Once the requester is
  erased it can no longer be read: :meth:`LetterStore.read` raises :class:`LetterErased` (410).
  A decision taken after the erasure stores its letter's record with nothing to read.
- Letters stored in clear before sealing (``content``) are still read; :func:`seal_stored_letters`
  seals them at start-up under the requester's key, or records the key (then they answer 410 once
  it is erased, and their bytes are left for the documented manual deletion).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from serambi_calendar import DAY_NAMES, MONTH_NAMES
from serambi_contracts.intake import DocumentRef
from serambi_kit.logging import get_logger
from serambi_kit.pii import SubjectErased, Vault
from serambi_kit.recent import Recent

from ..application.context import LetterContent
from ..domain.time import wib

log = get_logger(__name__)
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
DAYS = DAY_NAMES
MONTHS = MONTH_NAMES
_PLAIN = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def long_date(instant: datetime) -> str:
    local = wib(instant)
    return f"{DAYS[local.weekday()]}, {local.day} {MONTHS[local.month - 1]} {local.year}"


def _plain(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _body(c: LetterContent) -> list[str]:
    opening = (
        f"Menindaklanjuti surat permohonan fasilitasi rapat/audiensi dari {c.institution} "
        f"yang kami terima pada {long_date(c.submitted_at)} dengan nomor registrasi "
        f"{c.reference}, " + (f'perihal "{c.topic}", ' if c.topic else "")
    )
    if c.kind == "declined":
        return [
            opening + "dengan hormat kami sampaikan bahwa permohonan tersebut belum dapat "
            f"kami penuhi, dengan alasan: {c.reason}.",
            "Saudara dapat mengajukan permohonan baru pada waktu yang lain.",
        ]
    if c.kind == "rescheduled" and c.previous:
        moved = (
            f"jadwal audiensi yang semula {long_date(c.previous[0])} pukul "
            f"{wib(c.previous[0]):%H.%M} WIB diubah ({c.reason}) menjadi:"
        )
        return [opening + moved]
    return [
        opening + "dengan ini kami sampaikan bahwa Biro Perekonomian Sekretariat Daerah "
        "Provinsi Kalimantan Barat bersedia menerima audiensi tersebut pada:"
    ]


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
    pdf.cell(
        0, 5, f"Pontianak, {long_date(c.issued_at).split(', ')[1]}", align="R", new_x="LMARGIN", new_y="NEXT"
    )
    for label, value in (
        ("Nomor", f"{c.reference}/AUD/BIRO-EKON"),
        ("Sifat", "Biasa"),
        ("Lampiran", "-"),
        ("Perihal", "Jawaban Permohonan Audiensi"),
    ):
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
        rows = (
            ("Hari, tanggal", long_date(p.starts_at)),
            ("Waktu", f"{wib(p.starts_at):%H.%M} - {wib(p.ends_at):%H.%M} WIB"),
            ("Tempat", f"{p.room}, {p.location}" if p.location else p.room),
            ("Diterima oleh", p.host),
            ("Peserta", f"paling banyak {c.participants} orang"),
        )
        for label, value in rows:
            pdf.set_x(30)
            pdf.cell(32, 5, label)
            pdf.multi_cell(0, 5, _plain(f": {value}"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        pdf.multi_cell(
            0,
            5,
            "Mohon hadir 15 menit sebelum acara dengan membawa surat permohonan "
            "dan tanda pengenal. Layanan ini tidak dipungut biaya.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(2)
    pdf.multi_cell(
        0, 5, "Demikian disampaikan, atas perhatiannya diucapkan terima kasih.", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(8)
    pdf.set_x(120)
    pdf.multi_cell(
        0, 5, _plain(f"{c.signatory},\n\n\n(ditandatangani secara elektronik)"), new_x="LMARGIN", new_y="NEXT"
    )
    return bytes(pdf.output())


class LetterErased(Exception):
    """The letter's requester was erased with their data key: it cannot be read (410 Gone)."""


@dataclass(frozen=True, slots=True)
class StoredLetter:
    document_id: str
    audience_id: str
    media_type: str
    sha256: str
    content: bytes


def recent_letters() -> Recent[tuple[str, str], dict]:
    """The records of the letters this process stored in the last minute, as stored (sealed), by
    (database, letter id).

    The notifier fetches every new letter through its public link moments after the decision
    that stored it (to attach it to the invitation): served from here, that costs the database
    no read (issue #21). Only what ``put`` just wrote is kept, still sealed, so an erasure works
    as for the stored record (the vault refuses the key); a record written by another replica or
    older than a minute is read from the database.
    """
    return Recent(seconds=60.0, size=128)


RECENT = recent_letters()


async def read_letter(db: AsyncDatabase, vault: Vault, document_id: str) -> StoredLetter | None:
    """A stored letter opened, or None when there is no such letter. Raises :class:`LetterErased`
    when its requester's key was erased. A letter stored in clear before sealing (``content``)
    is returned as it is unless the key recorded for it since is gone."""
    kept = RECENT.get((getattr(db, "name", ""), document_id))  # a test's stand-in has no name
    found = kept or await db[LETTERS].find_one({"_id": document_id})
    if found is None:
        return None
    key = found.get("key")
    if "sealed" in found:
        content = await vault.open_bytes(key, bytes(found["sealed"]), document_id.encode())
    elif "content" in found:
        content = bytes(found["content"])
        if key and await vault.data_cipher(key) is None:  # recorded at start-up, erased since
            content = None
    else:  # stored after the requester's erasure: nothing was kept to read
        content = None
    if content is None:
        raise LetterErased(document_id)
    return StoredLetter(document_id, found["audience_id"], found["media_type"], found["sha256"], content)


class LetterStore:
    """Letters in MongoDB, under ids derived with a secret (unguessable, stable on retries),
    sealed under the requester's data key from ``vault``."""

    def __init__(self, db: AsyncDatabase, secret: str, vault: Vault) -> None:
        self.db = db
        self.collection = db[LETTERS]
        self._secret = secret.encode()
        self.vault = vault

    def document_id(self, audience_id: str, digest: str) -> str:
        mac = hmac.new(self._secret, f"{audience_id}:{digest}".encode(), hashlib.sha256).digest()
        return "L" + base64.urlsafe_b64encode(mac).decode()[:32]

    async def put(self, audience_id: str, content: bytes, now: datetime, key: str) -> DocumentRef:
        """Store ``content`` sealed under the requester's data key ``key`` (once, however often a
        decision is retried). After the requester's erasure only the record is kept (410)."""
        digest = hashlib.sha256(content).hexdigest()
        document_id = self.document_id(audience_id, digest)
        record = {
            "_id": document_id,
            "audience_id": audience_id,
            "kind": KIND,
            "media_type": MEDIA_TYPE,
            "sha256": digest,
            "size": len(content),
            "key": key,
            "created_at": now,
        }
        try:
            record["sealed"] = await self.vault.seal_bytes(key, content, document_id.encode())
        except SubjectErased:
            log.info("letter.requester_erased", audience_id=audience_id, document_id=document_id)
        try:
            await self.collection.insert_one(record)
        except DuplicateKeyError:
            pass  # the same letter, stored by an earlier attempt
        else:
            RECENT.put((self.db.name, document_id), record)
        return DocumentRef(
            document_id=document_id, kind=KIND, media_type=MEDIA_TYPE, sha256=digest, size=len(content)
        )

    async def get(self, document_id: str) -> dict | None:
        """The stored record as it is (sealed)."""
        return await self.collection.find_one({"_id": document_id})

    async def read(self, document_id: str) -> StoredLetter | None:
        return await read_letter(self.db, self.vault, document_id)


async def seal_stored_letters(
    letters: LetterStore, key_of: Callable[[str], Awaitable[str | None]]
) -> dict[str, int]:
    """Seal every letter stored in clear before sealing (``content``, no ``key``) under its
    requester's data key (``key_of(audience_id)``; None when it cannot be found). Run at start-up;
    a letter is changed only while it is still in clear, so replicas may run it together.

    - the key found and held → sealed, the clear bytes removed (``sealed``);
    - the key found but already erased → the key recorded: the letter answers 410, its clear
      bytes stay for the documented manual deletion (never removed automatically: a vault
      misconfigured at start-up must not destroy letters);
    - no key found → ``key: None`` recorded, so later starts skip it; it stays readable in clear.

    Returns the counts per outcome."""
    counts = {"sealed": 0, "erased": 0, "unknown": 0}
    clear = {"content": {"$exists": True}, "key": {"$exists": False}}
    waiting = [
        (found["_id"], found["audience_id"])
        async for found in letters.collection.find(clear, {"_id": 1, "audience_id": 1})
    ]
    for document_id, audience_id in waiting:
        key = await key_of(audience_id)
        change: dict = {"$set": {"key": key}}
        if key is None:
            counts["unknown"] += 1
        else:
            found = await letters.collection.find_one({"_id": document_id, **clear}, {"content": 1})
            if found is None:
                continue  # sealed meanwhile by another replica
            try:
                sealed = await letters.vault.seal_bytes(key, bytes(found["content"]), document_id.encode())
            except SubjectErased:
                counts["erased"] += 1
            else:
                change = {"$set": {"key": key, "sealed": sealed}, "$unset": {"content": ""}}
                counts["sealed"] += 1
        await letters.collection.update_one({"_id": document_id, **clear}, change)
    if any(counts.values()):
        log.info("letters.sealed_at_start", **counts)
    return counts

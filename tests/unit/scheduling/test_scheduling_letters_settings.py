"""The answer letter's content, and scheduling's settings."""

from __future__ import annotations

import re
import zlib
from datetime import time

import pytest
from pydantic import ValidationError
from scheduling_support import wib
from serambi_scheduling.adapters.letters import LetterContent, long_date, render
from serambi_scheduling.domain.audience import Placement
from serambi_scheduling.settings import SchedulingSettings

P = Placement(
    "b1",
    wib("2026-02-03 09:00"),
    wib("2026-02-03 10:00"),
    "R1",
    "Ruang Rapat Biro",
    "H1",
    "Ir. Budi Santoso",
    "Lantai 2 Kantor Gubernur",
)


def text_of(pdf: bytes) -> str:
    """The text drawn on the pages (content streams inflated, string operands joined)."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            content = raw
        out += [m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", content, re.S)]
    return " ".join(out).replace("\\(", "(").replace("\\)", ")")


def content(**changes) -> LetterContent:
    values = dict(
        kind="scheduled",
        reference="AUD-2026-000042",
        issued_at=wib("2026-02-02 10:00"),
        institution="Dinas Perindustrian Kota Singkawang",
        requester_position="Sekretaris Dinas",
        topic="Hilirisasi produk lada",
        submitted_at=wib("2026-02-02 08:00"),
        participants=5,
        signatory="Kepala Biro Perekonomian",
        placement=P,
    )
    return LetterContent(**{**values, **changes})


def test_the_scheduled_letter_has_the_letterhead_reference_and_schedule():
    pdf = render(content())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    for expected in (
        "BIRO PEREKONOMIAN",
        "PEMERINTAH PROVINSI KALIMANTAN BARAT",
        "AUD-2026-000042",
        "Jawaban Permohonan Audiensi",
        "bersedia menerima",
        "Selasa, 3 Februari 2026",
        "09.00 - 10.00 WIB",
        "Ruang Rapat Biro",
        "Ir. Budi Santoso",
        "Sekretaris Dinas",
    ):
        assert expected in text, expected


def test_the_declining_letter_gives_the_reason_and_no_schedule():
    text = text_of(render(content(kind="declined", placement=None, reason="pimpinan dinas luar")))
    assert "belum dapat" in text and "pimpinan dinas luar" in text
    assert "Hari, tanggal" not in text


def test_a_letter_for_an_erased_requester_leaves_out_the_topic_it_can_no_longer_read():
    assert 'perihal "Hilirisasi produk lada"' in text_of(render(content()))
    text = text_of(render(content(kind="declined", placement=None, topic=None, reason="pimpinan dinas luar")))
    assert "perihal" not in text and "None" not in text and "pimpinan dinas luar" in text


def test_the_rescheduling_letter_names_the_old_time():
    text = text_of(
        render(
            content(
                kind="rescheduled",
                previous=(wib("2026-02-02 13:00"), wib("2026-02-02 14:00")),
                reason="permintaan pemohon",
            )
        )
    )
    assert "semula Senin, 2 Februari 2026 pukul 13.00 WIB" in text


def test_the_same_letter_renders_to_the_same_bytes_and_odd_characters_do_not_break_it():
    assert render(content()) == render(content())
    assert text_of(render(content(topic="Kerja sama “lada” – ekspor…")))


def test_indonesian_long_dates():
    assert long_date(wib("2026-08-17 09:00")) == "Senin, 17 Agustus 2026"


def test_settings_have_documented_defaults_and_parse_the_rules():
    settings = SchedulingSettings(_env_file=None)
    assert settings.scheduling_mode == "book"
    assert settings.hours == (time(9), time(15))
    assert settings.notice == ("d", 1)
    assert settings.seeds


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scheduling_mode", "maybe"),
        ("audience_hours", "15:00-09:00"),
        ("audience_hours", "9-15"),
        ("minimum_notice", "3 days"),
        ("buffer_minutes", -5),
    ],
)
def test_bad_settings_are_refused_by_name(field, value):
    with pytest.raises(ValidationError, match=field):
        SchedulingSettings(**{field: value})


def test_production_needs_its_own_letter_secret():
    with pytest.raises(ValidationError, match="SERAMBI_LETTER_SECRET"):
        SchedulingSettings(
            environment="production",
            auth_dev_signing_key=None,
            auth_jwks_url="https://idp.example/certs",
            pii_master_key="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
        )
    assert not SchedulingSettings(
        environment="production",
        auth_dev_signing_key=None,
        auth_jwks_url="https://idp.example/certs",
        pii_master_key="c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
        letter_secret="x" * 40,
    ).seeds

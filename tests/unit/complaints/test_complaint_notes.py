"""Notes on a complaint as pure decisions: kept whatever the status, once per message, never
moving the status or the clock; the read model's timeline holds them sealed."""

from __future__ import annotations

import pytest
from serambi_complaints.domain import (
    AddNote,
    Status,
    UnknownComplaintError,
    decide_answer,
    decide_assign,
    decide_close,
    decide_note,
    fold,
)
from serambi_complaints.projections import on_note_added
from serambi_contracts.base import DocumentRef
from serambi_contracts.complaints import ComplaintChannel, ComplaintNoteAdded, ComplaintTier, NoteSource

CODE = "ADU-2026-000001"
KEY = "0123456789abcdef0123456789abcdef"


def note(sealed, wib, key: str | None = KEY, **extra) -> AddNote:
    return AddNote(tracking_code=CODE, added_at=wib("2026-01-05 10:00"), text=sealed("Nomor antrean 42"),
                   channel=ComplaintChannel.EMAIL, recorded_by="email", message_key=key, **extra)


def test_a_note_is_kept_without_moving_the_status_or_the_deadline(received, sealed, wib):
    history = received(wib("2026-01-05 09:00"))
    before = fold(history)
    [event] = decide_note(history, note(sealed, wib))
    assert isinstance(event, ComplaintNoteAdded)
    assert event.source is NoteSource.COMPLAINANT and event.channel is ComplaintChannel.EMAIL
    assert event.message_key == KEY and event.text == sealed("Nomor antrean 42")
    after = fold([*history, event])
    assert (after.status, after.due_at, after.clock()) == (before.status, before.due_at, before.clock())


def test_the_same_message_is_noted_once_and_another_message_again(received, sealed, wib):
    history = received(wib("2026-01-05 09:00"))
    history += decide_note(history, note(sealed, wib))
    assert decide_note(history, note(sealed, wib)) == []
    assert len(decide_note(history, note(sealed, wib, key="f" * 32))) == 1
    assert len(decide_note(history, note(sealed, wib, key=None))) == 1  # no key: nothing to match


def test_a_reply_after_the_answer_or_the_closing_is_still_kept(received, rules, sealed, wib):
    history = received(wib("2026-01-05 09:00"), ComplaintTier.RINGAN)
    history += decide_assign(history, CODE, "Tim Pengelola Pengaduan", None, "o")
    history += decide_answer(history, CODE, sealed("jawaban"), "o", wib("2026-01-05 10:00"), rules)
    history += decide_close(history, CODE, "o", wib("2026-01-05 11:00"))
    [event] = decide_note(history, note(sealed, wib))
    assert fold([*history, event]).status is Status.CLOSED


def test_a_note_on_an_unknown_complaint_is_refused():
    from serambi_contracts.base import Sealed

    text = Sealed(key="k1", nonce="AAAAAAAAAAAAAAAA", data="00")
    with pytest.raises(UnknownComplaintError):
        decide_note([], AddNote(tracking_code=CODE, added_at=None, text=text))  # type: ignore[arg-type]


def test_the_read_model_puts_the_note_sealed_in_the_timeline_and_its_files_with_the_attachments(
    received, sealed, wib
):
    ref = DocumentRef(document_id="D" + "a" * 32, kind="attachment", media_type="application/pdf",
                      sha256="b" * 64, size=10)
    history = received(wib("2026-01-05 09:00"))
    [event] = decide_note(history, note(sealed, wib, attachments=(ref,)))
    change = on_note_added(event, None)  # type: ignore[arg-type] — the projector reads the event only
    entry = change.update["$push"]["timeline"]
    assert entry["step"] == "note" and entry["text"] == sealed("Nomor antrean 42").model_dump()
    assert entry["attachments"] == [ref.document_id]
    assert change.update["$push"]["attachments"] == {"$each": [ref.model_dump()]}

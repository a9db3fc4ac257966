"""Notes on a complaint as pure decisions: kept whatever the status, once per message, never
moving the status or the clock; the read model's timeline holds them sealed."""

from __future__ import annotations

import pytest
from serambi_complaints.adapters.projections import on_note_added
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
from serambi_contracts.base import DocumentRef
from serambi_contracts.complaints import ComplaintChannel, ComplaintNoteAdded, ComplaintTier, NoteSource

CODE = "ADU-2026-000001"
KEY = "0123456789abcdef0123456789abcdef"


def note(sealed, wib, key: str | None = KEY, **extra) -> AddNote:
    return AddNote(
        tracking_code=CODE,
        added_at=wib("2026-01-05 10:00"),
        text=sealed("Nomor antrean 42"),
        channel=ComplaintChannel.EMAIL,
        recorded_by="email",
        message_key=key,
        **extra,
    )


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
    ref = DocumentRef(
        document_id="D" + "a" * 32, kind="attachment", media_type="application/pdf", sha256="b" * 64, size=10
    )
    history = received(wib("2026-01-05 09:00"))
    [event] = decide_note(history, note(sealed, wib, attachments=(ref,)))
    change = on_note_added(event, None)  # type: ignore[arg-type] — the projector reads the event only
    entry = change.update["$push"]["timeline"]
    assert entry["step"] == "note" and entry["text"] == sealed("Nomor antrean 42").model_dump()
    assert entry["attachments"] == [ref.document_id]
    assert change.update["$push"]["attachments"] == {"$each": [ref.model_dump()]}


def paused_complaint(received, sealed, wib, rules):
    """A ringan complaint received Monday 09:00, assigned, paused at 10:00 waiting on the
    complainant (two of its three working hours left)."""
    from serambi_complaints.domain import decide_pause

    history = received(wib("2026-01-05 09:00"), ComplaintTier.RINGAN)
    history += decide_assign(history, CODE, "Tim Pengelola Pengaduan", "tim", "o")
    history += decide_pause(history, CODE, "Menunggu salinan surat", "o", wib("2026-01-05 10:00"))
    return history


def test_the_complainants_note_on_a_paused_complaint_resumes_its_clock_at_its_arrival(
    received, sealed, wib, rules
):
    from serambi_contracts.complaints import ComplaintClockResumed, ResumeCause

    history = paused_complaint(received, sealed, wib, rules)
    assert fold(history).paused and fold(history).due_at is None
    arrived = note(sealed, wib)  # 2026-01-05 10:00 — the pause's own minute
    later = AddNote(
        **{
            **{f: getattr(arrived, f) for f in arrived.__dataclass_fields__},
            "added_at": wib("2026-01-05 13:00"),
        }
    )  # after the lunch break
    noted, resumed = decide_note(history, later, rules)
    assert isinstance(noted, ComplaintNoteAdded) and isinstance(resumed, ComplaintClockResumed)
    assert resumed.cause is ResumeCause.COMPLAINANT_NOTE and resumed.resumed_by == "email"
    assert resumed.paused_at == wib("2026-01-05 10:00") and resumed.resumed_at == wib("2026-01-05 13:00")
    assert resumed.due_at == wib("2026-01-05 15:00")  # two working hours left, from 13:00
    after = fold([*history, noted, resumed])
    assert not after.paused and after.due_at == resumed.due_at


def test_a_note_that_arrived_before_the_pause_resumes_it_at_the_pause_not_before(
    received, sealed, wib, rules
):
    history = paused_complaint(received, sealed, wib, rules)
    early = AddNote(
        tracking_code=CODE,
        added_at=wib("2026-01-05 09:30"),
        text=sealed("x"),
        channel=ComplaintChannel.EMAIL,
        recorded_by="email",
        message_key=KEY,
    )
    _, resumed = decide_note(history, early, rules)
    assert resumed.resumed_at == wib("2026-01-05 10:00")


@pytest.mark.parametrize("source", [NoteSource.THIRD_PARTY, NoteSource.OFFICER])
def test_a_third_partys_or_an_officers_note_leaves_the_clock_paused(received, sealed, wib, rules, source):
    history = paused_complaint(received, sealed, wib, rules)
    [noted] = decide_note(history, note(sealed, wib, source=source), rules)
    assert fold([*history, noted]).paused


def test_without_rules_the_note_is_kept_and_the_clock_left_paused(received, sealed, wib, rules):
    history = paused_complaint(received, sealed, wib, rules)
    [noted] = decide_note(history, note(sealed, wib))
    assert fold([*history, noted]).paused


def test_a_note_on_a_closed_complaint_is_flagged_and_one_on_an_answered_complaint_is_not(
    received, rules, sealed, wib
):
    history = received(wib("2026-01-05 09:00"), ComplaintTier.RINGAN)
    history += decide_assign(history, CODE, "Tim Pengelola Pengaduan", None, "o")
    history += decide_answer(history, CODE, sealed("jawaban"), "o", wib("2026-01-05 10:00"), rules)
    [answered_note] = decide_note(history, note(sealed, wib), rules)
    assert answered_note.after_close is False
    history += decide_close(history, CODE, "o", wib("2026-01-05 11:00"))
    [closed_note] = decide_note(history, note(sealed, wib, key="e" * 32), rules)
    assert closed_note.after_close is True and fold([*history, closed_note]).status is Status.CLOSED
    entry = on_note_added(closed_note, None).update["$push"]["timeline"]  # type: ignore[arg-type]
    assert entry["after_close"] is True


def test_notes_from_outside_count_as_new_until_an_officers_step_and_a_notes_resumption_is_none(
    received, sealed, wib, rules
):
    """The read model's ``new_notes``: +1 for the complainant's or a third party's note; an
    officer's step (here: the pause, a resumption, the answer) sets it back to 0; the clock the
    complainant's note resumed is not an officer's step."""
    from serambi_complaints.adapters import projections as p
    from serambi_complaints.domain import decide_pause, decide_resume

    history = paused_complaint(received, sealed, wib, rules)
    noted, resumed = decide_note(history, note(sealed, wib), rules)
    assert p.on_note_added(noted, None).update["$inc"] == {"note_count": 1, "new_notes": 1}
    assert "new_notes" not in p.on_resumed(resumed, None).update["$set"]
    assert p.on_resumed(resumed, None).update["$push"]["timeline"]["cause"] == "complainant_note"
    history += [noted, resumed]
    [third] = decide_note(history, note(sealed, wib, key="d" * 32, source=NoteSource.THIRD_PARTY), rules)
    assert third.source is NoteSource.THIRD_PARTY
    assert p.on_note_added(third, None).update["$inc"]["new_notes"] == 1
    history.append(third)
    [paused] = decide_pause(history, CODE, "Menunggu lagi", "o", wib("2026-01-05 14:00"))
    assert p.on_paused(paused, None).update["$set"]["new_notes"] == 0
    history.append(paused)
    [resumed_by_officer] = decide_resume(history, CODE, "o", wib("2026-01-05 14:30"), rules)
    assert p.on_resumed(resumed_by_officer, None).update["$set"]["new_notes"] == 0
    [answered] = decide_answer(
        [*history, resumed_by_officer], CODE, sealed("j"), "o", wib("2026-01-05 15:00"), rules
    )
    assert p.on_answered(answered, None).update["$set"]["new_notes"] == 0
    officer_note = decide_note(history, note(sealed, wib, key="c" * 32, source=NoteSource.OFFICER), rules)[0]
    update = p.on_note_added(officer_note, None).update
    assert update["$inc"] == {"note_count": 1} and update["$set"]["new_notes"] == 0

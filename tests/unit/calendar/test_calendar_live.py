"""The live calendar: the override file, then the revisions made while the services run (add,
remove, move a day), later ones winning; every holder counts with the revised calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from serambi_calendar import (
    WIB,
    Clock,
    LiveCalendar,
    RevisionError,
    SlaPolicy,
    check_change,
    fingerprint,
    parse_overrides,
)

FILE = parse_overrides('version = "2026.9"\n', "/etc/serambi/overrides.toml")


@dataclass
class Revised:  # the fields of WorkingDayRevised that count
    revision: int
    action: str
    day: date
    holiday_name: str | None
    decree: str
    to: date | None = None


def test_without_revisions_it_is_the_files_calendar_and_its_label():
    live = LiveCalendar(FILE, years=[2026])
    assert live.revision == "overrides.toml v2026.9"
    assert live.working_periods(date(2026, 11, 10))  # a Tuesday


def test_an_added_cuti_bersama_moves_a_deadline_and_the_label_and_fingerprint_name_the_revision():
    live = LiveCalendar(FILE, years=[2026])
    policy = SlaPolicy()
    clock = Clock("audience_answer", datetime(2026, 11, 9, 9, 0, tzinfo=WIB))  # Monday
    before, print_before = clock.deadline(live, policy), fingerprint(live, policy)
    assert before.astimezone(WIB).date() == date(2026, 11, 12)
    live.revise([Revised(1, "add", date(2026, 11, 10), "Cuti bersama (uji)", "SKB 3 Menteri revisi")])
    assert not live.working_periods(date(2026, 11, 10))
    assert clock.deadline(live, policy).astimezone(WIB).date() == date(2026, 11, 13)
    assert live.revision == "overrides.toml v2026.9 + revisi 1"
    assert fingerprint(live, policy) != print_before
    [entry] = [e for e in live.days(2026) if e.date == date(2026, 11, 10)]
    assert (entry.name, entry.source, entry.reference) == (
        "Cuti bersama (uji)",
        "override",
        "SKB 3 Menteri revisi [revisi 1]",
    )


def test_a_later_revision_of_the_same_day_wins_and_a_move_frees_one_day_and_takes_another():
    live = LiveCalendar(FILE, years=[2026])
    christmas = date(2026, 12, 25)  # Natal, from the holidays package
    assert not live.working_periods(christmas)
    live.revise(
        [
            Revised(2, "remove", date(2026, 11, 10), None, "SKB revisi kedua"),
            Revised(1, "add", date(2026, 11, 10), "Cuti bersama", "SKB revisi"),  # applied first: by number
            Revised(3, "move", christmas, None, "SKB revisi ketiga", date(2026, 12, 29)),
        ]
    )
    assert live.working_periods(date(2026, 11, 10))  # removed again by revision 2
    assert live.working_periods(christmas) and not live.working_periods(date(2026, 12, 29))
    moved = {e.date: e for e in live.days(2026)}[date(2026, 12, 29)]
    assert "Natal" in moved.name and moved.reference == "SKB revisi ketiga [revisi 3]"
    assert live.revision.endswith("+ revisi 3")


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        (("add", date(2026, 11, 10), "", "SKB"), "name", "missing"),
        (("add", date(2026, 11, 10), "Cuti", " "), "decree", "missing"),
        (("add", date(2026, 11, 14), "Cuti", "SKB"), "date", "weekend"),
        (("remove", date(2026, 11, 10), None, "SKB"), "date", "not_a_holiday"),
        (("move", date(2026, 12, 25), None, "SKB"), "to", "missing"),
        (("move", date(2026, 12, 25), None, "SKB", date(2026, 12, 27)), "to", "not_a_working_day"),
        (("add", date(2026, 11, 10), "Cuti", "SKB", date(2026, 11, 11)), "to", "only_for_move"),
    ],
)
def test_a_change_that_would_mean_nothing_is_refused_naming_its_field(change, field, rule):
    with pytest.raises(RevisionError) as refused:
        check_change(LiveCalendar(FILE, years=[2026]), *change)
    assert (refused.value.field, refused.value.rule) == (field, rule)


def test_a_sensible_change_passes_the_check():
    live = LiveCalendar(FILE, years=[2026])
    check_change(live, "add", date(2026, 11, 10), "Cuti bersama", "SKB")
    check_change(live, "move", date(2026, 12, 25), None, "SKB", date(2026, 12, 28))

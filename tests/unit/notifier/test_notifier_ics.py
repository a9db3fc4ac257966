"""iCalendar invitations: parse with icalendar, stable UID, SEQUENCE, times in WIB, CANCEL."""

from __future__ import annotations

from datetime import UTC, datetime, time

import icalendar
from serambi_notifier.adapters.ics import WIB, Invitation, invitation_ics

STAMP = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def invitation(**overrides) -> Invitation:
    values = dict(
        audience_id="AUD-2026-000042",
        sequence=0,
        starts_at=datetime(2026, 3, 4, 2, 0, tzinfo=UTC),
        ends_at=datetime(2026, 3, 4, 3, 30, tzinfo=UTC),
        summary="Audiensi: Hilirisasi lada",
        location="Ruang Rapat, Kantor Gubernur",
        description="AUD-2026-000042",
        organizer="Biro Perekonomian <no-reply@serambi.example>",
        attendee="siti@example.go.id",
        attendee_name="Siti Aminah",
        stamp=STAMP,
    )
    values.update(overrides)
    return Invitation(**values)


def parse(raw: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(raw)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_an_invitation_is_a_request_with_its_times_in_wib():
    calendar, event = parse(invitation_ics(invitation(), "serambi.example"))
    assert calendar["METHOD"] == "REQUEST"
    starts, ends = event.decoded("DTSTART"), event.decoded("DTEND")
    assert starts.astimezone(WIB).time() == time(9, 0) and ends.astimezone(WIB).time() == time(10, 30)
    assert starts.utcoffset().total_seconds() == 7 * 3600
    assert event["DTSTART"].params["TZID"] == "Asia/Pontianak"
    [zone] = calendar.walk("VTIMEZONE")
    assert zone["TZID"] == "Asia/Pontianak"
    assert event["SEQUENCE"] == 0 and event["STATUS"] == "CONFIRMED"
    assert "mailto:siti@example.go.id" in str(event["ATTENDEE"])


def test_the_uid_is_stable_and_the_sequence_grows_with_each_reschedule():
    _, first = parse(invitation_ics(invitation(), "serambi.example"))
    _, moved = parse(
        invitation_ics(
            invitation(
                sequence=2,
                starts_at=datetime(2026, 3, 5, 7, 0, tzinfo=UTC),
                ends_at=datetime(2026, 3, 5, 8, 0, tzinfo=UTC),
            ),
            "serambi.example",
        )
    )
    assert str(first["UID"]) == str(moved["UID"]) == "AUD-2026-000042@serambi.example"
    assert moved["SEQUENCE"] == 2
    assert moved.decoded("DTSTART").astimezone(WIB).time() == time(14, 0)


def test_a_cancellation_has_method_cancel_and_status_cancelled():
    calendar, event = parse(invitation_ics(invitation(method="CANCEL", sequence=1), "serambi.example"))
    assert calendar["METHOD"] == "CANCEL"
    assert event["STATUS"] == "CANCELLED" and event["SEQUENCE"] == 1

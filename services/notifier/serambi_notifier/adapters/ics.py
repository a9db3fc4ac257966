"""iCalendar (RFC 5545 / iTIP RFC 5546) invitations for audiences.

- UID is stable per audience: ``<audience_id>@<mail domain>``, so a calendar updates the same
  entry on every reschedule and removes it on cancellation.
- SEQUENCE is the number of reschedules so far (0 for the first invitation); a cancellation
  carries the last one, so it supersedes the last invitation.
- METHOD:REQUEST for an invitation or update, METHOD:CANCEL (STATUS:CANCELLED) to cancel.
- Times are in WIB: DTSTART/DTEND with TZID=Asia/Pontianak and its VTIMEZONE; DTSTAMP in UTC.
"""

from __future__ import annotations

from datetime import date
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress, vText
from serambi_calendar import WIB

from ..application.ports import Invitation

__all__ = ["PRODID", "WIB", "Invitation", "invitation_ics", "uid"]

PRODID = "-//Biro Perekonomian Provinsi Kalimantan Barat//Serambi//ID"


def uid(audience_id: str, domain: str) -> str:
    return f"{audience_id}@{domain}"


def invitation_ics(invitation: Invitation, domain: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", invitation.method)
    event = Event()
    event.add("uid", uid(invitation.audience_id, domain))
    event.add("sequence", invitation.sequence)
    event.add("dtstamp", invitation.stamp)
    event.add("dtstart", invitation.starts_at.astimezone(WIB))
    event.add("dtend", invitation.ends_at.astimezone(WIB))
    event.add("summary", invitation.summary)
    event.add("location", invitation.location)
    event.add("description", invitation.description)
    event.add("status", "CANCELLED" if invitation.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    name, address = parseaddr(invitation.organizer)
    organizer = vCalAddress(f"mailto:{address}")
    if name:
        organizer.params["cn"] = vText(name)
    event.add("organizer", organizer)
    if invitation.attendee:
        attendee = vCalAddress(f"mailto:{invitation.attendee}")
        if invitation.attendee_name:
            attendee.params["cn"] = vText(invitation.attendee_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("FALSE")
        event.add("attendee", attendee)
    calendar.add_component(event)
    # WIB has been UTC+7 without daylight saving since 1988: one STANDARD rule from 2000 on.
    calendar.add_missing_timezones(first_date=date(2000, 1, 1), last_date=date(2100, 1, 1))
    return calendar.to_ical()

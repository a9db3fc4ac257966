"""Indonesian phone numbers to E.164 (``08…`` → ``+628…``)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s().-]")


class PhoneNumberError(ValueError):
    """Not an Indonesian mobile number we can normalise."""


def to_e164(raw: str) -> str:
    number = _SEPARATORS.sub("", raw)
    if number.startswith("+62"):
        national = number[3:]
    elif number.startswith("62"):
        national = number[2:]
    elif number.startswith("0"):
        national = number[1:]
    else:
        raise PhoneNumberError("phone: use an Indonesian number, e.g. 0812… or +62812…")
    if national.startswith("0"):
        national = national[1:]
    if not national.isdigit() or not 8 <= len(national) <= 13 or not national.startswith("8"):
        raise PhoneNumberError("phone: an Indonesian mobile number starts with 08 and has 10-14 digits")
    return "+62" + national


def phone_identifier(raw: str | None) -> str | None:
    """A phone number as Serambi keeps it and finds it for erasure: E.164 for an Indonesian
    mobile number (``0812-3456-7890`` → ``+6281234567890``), otherwise its digits without
    separators (a landline, a foreign number). A number from another system (SP4N-LAPOR!) goes
    through this before it is sealed and hashed, and ``serambi personal-data erase --phone``
    uses the same rule, so any written form of the number finds the same person."""
    if raw is None:
        return None
    try:
        return to_e164(raw)
    except PhoneNumberError:
        number = _SEPARATORS.sub("", raw)
        return number or None

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

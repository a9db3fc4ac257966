"""SMS text: the GSM 03.38 7-bit alphabet, lengths in septets, and splitting.

One SMS carries 160 GSM-7 septets; characters of the extension table (``^{}\\[~]|€``) take two.
Text outside GSM-7 would switch the whole SMS to UCS-2 (70 characters), so notices are first
transliterated (curly quotes, dashes, ellipsis, accented letters) into GSM-7. A text longer than
160 septets is split at word boundaries into parts of at most 160 septets each, every part
prefixed ``(i/n) `` — HTTP gateways send each request as its own SMS, so the parts must read on
their own.
"""

from __future__ import annotations

import unicodedata

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
SINGLE_SMS = 160
_BASIC = frozenset(BASIC) - {"\x1b"}
_EXTENSION = frozenset(EXTENSION)
_REPLACEMENTS = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‒": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "·": "-",
    "\t": " ",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "×": "x",
    "`": "'",
    "´": "'",
}


def septets(char: str) -> int:
    if char in _BASIC:
        return 1
    if char in _EXTENSION:
        return 2
    raise ValueError(f"{char!r} is not in the GSM-7 alphabet")


def is_gsm7(text: str) -> bool:
    return all(char in _BASIC or char in _EXTENSION for char in text)


def length(text: str) -> int:
    """The text's length in septets (raises ValueError outside GSM-7)."""
    return sum(septets(char) for char in text)


def to_gsm7(text: str) -> str:
    """``text`` in the GSM-7 alphabet: known look-alikes replaced, accents dropped, the rest '?'."""
    out = []
    for char in text:
        if char in _BASIC or char in _EXTENSION:
            out.append(char)
        elif char in _REPLACEMENTS:
            out.append(_REPLACEMENTS[char])
        else:
            stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(stripped if stripped and is_gsm7(stripped) else "?")
    return "".join(out)


def _take(words: list[str], budget: int) -> tuple[str, list[str]]:
    """As many whole words as fit in ``budget`` septets (a single overlong word is cut)."""
    taken: list[str] = []
    used = 0
    while words:
        word = words[0]
        cost = length(word) + (1 if taken else 0)
        if used + cost <= budget:
            taken.append(word)
            used += cost
            words.pop(0)
            continue
        if not taken:  # one word longer than a part: cut it
            cut, size = [], 0
            for char in word:
                if size + septets(char) > budget:
                    break
                cut.append(char)
                size += septets(char)
            words[0] = word[len(cut) :]
            return "".join(cut), words
        break
    return " ".join(taken), words


def split(text: str, max_parts: int = 6) -> list[str]:
    """The SMS parts of ``text`` (transliterated to GSM-7); one part if it fits 160 septets.

    Beyond ``max_parts`` the last part ends with ``...``.
    """
    text = " ".join(to_gsm7(text).split())
    if length(text) <= SINGLE_SMS:
        return [text]
    for total in range(2, max_parts + 1):
        parts = _split_into(text, total)
        if parts is not None:
            return parts
    return _split_into(text, max_parts, truncate=True) or []


def _split_into(text: str, total: int, *, truncate: bool = False) -> list[str] | None:
    words = text.split(" ")
    parts = []
    for number in range(1, total + 1):
        prefix = f"({number}/{total}) "
        budget = SINGLE_SMS - length(prefix)
        if truncate and number == total:
            budget -= 3
        chunk, words = _take(words, budget)
        parts.append(prefix + chunk)
    if words:
        if not truncate:
            return None
        parts[-1] += "..."
    return parts

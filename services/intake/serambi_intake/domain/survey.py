"""Survei Kepuasan Masyarakat (PermenPANRB 14/2017): the instrument and the computation.

Pure: no I/O. The nine elements (*unsur*) U1–U9 are answered on the 1–4 scale, each answer with
the regulation's wording (its sample questionnaire). The figures, as the regulation defines them:

- NRR per element = the mean score of the element;
- weighted NRR = NRR × 1/9;
- IKM = Σ weighted NRR × 25 (so 25.00–100.00);
- the quality category: A (Sangat Baik) 88.31–100.00, B (Baik) 76.61–88.30,
  C (Kurang Baik) 65.00–76.60, D (Tidak Baik) 25.00–64.99.

The arithmetic is exact (fractions); only what is shown is rounded, half up: NRR to 2 decimals,
IKM to 2 decimals (the category is read from the rounded IKM, so 76.605 is B like the 76.61 a
reader sees). The sample size is Krejcie and Morgan's, which the regulation refers to.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from serambi_calendar import WIB
from serambi_contracts import Event
from serambi_contracts.survey import (
    RespondentProfile,
    SurveyAnswered,
    SurveyChannel,
    SurveyInvited,
    SurveyScores,
    SurveyService,
)

SCALE = (1, 2, 3, 4)


@dataclass(frozen=True, slots=True)
class Element:
    code: str
    name: str
    question: str
    answers: tuple[str, str, str, str]  # the wording of 1, 2, 3 and 4


ELEMENTS: tuple[Element, ...] = (
    Element(
        "U1",
        "Persyaratan",
        "Bagaimana pendapat Saudara tentang kesesuaian persyaratan pelayanan dengan jenis pelayanannya?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    Element(
        "U2",
        "Sistem, mekanisme, dan prosedur",
        "Bagaimana pemahaman Saudara tentang kemudahan prosedur pelayanan di unit ini?",
        ("Tidak mudah", "Kurang mudah", "Mudah", "Sangat mudah"),
    ),
    Element(
        "U3",
        "Waktu penyelesaian",
        "Bagaimana pendapat Saudara tentang kecepatan waktu dalam memberikan pelayanan?",
        ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat"),
    ),
    Element(
        "U4",
        "Biaya/tarif",
        "Bagaimana pendapat Saudara tentang kewajaran biaya/tarif dalam pelayanan?",
        ("Sangat mahal", "Cukup mahal", "Murah", "Gratis"),
    ),
    Element(
        "U5",
        "Produk spesifikasi jenis pelayanan",
        "Bagaimana pendapat Saudara tentang kesesuaian produk pelayanan antara yang tercantum "
        "dalam standar pelayanan dengan hasil yang diberikan?",
        ("Tidak sesuai", "Kurang sesuai", "Sesuai", "Sangat sesuai"),
    ),
    Element(
        "U6",
        "Kompetensi pelaksana",
        "Bagaimana pendapat Saudara tentang kompetensi/kemampuan petugas dalam pelayanan?",
        ("Tidak kompeten", "Kurang kompeten", "Kompeten", "Sangat kompeten"),
    ),
    Element(
        "U7",
        "Perilaku pelaksana",
        "Bagaimana pendapat Saudara tentang perilaku petugas dalam pelayanan terkait kesopanan "
        "dan keramahan?",
        ("Tidak sopan dan ramah", "Kurang sopan dan ramah", "Sopan dan ramah", "Sangat sopan dan ramah"),
    ),
    Element(
        "U8",
        "Penanganan pengaduan, saran dan masukan",
        "Bagaimana pendapat Saudara tentang penanganan pengaduan pengguna layanan?",
        ("Tidak ada", "Ada tetapi tidak berfungsi", "Berfungsi kurang maksimal", "Dikelola dengan baik"),
    ),
    Element(
        "U9",
        "Sarana dan prasarana",
        "Bagaimana pendapat Saudara tentang kualitas sarana dan prasarana?",
        ("Buruk", "Cukup", "Baik", "Sangat baik"),
    ),
)
CODES = tuple(element.code for element in ELEMENTS)

#: (lowest IKM, letter, label), highest first
CATEGORIES = (
    (Decimal("88.31"), "A", "Sangat Baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang Baik"),
    (Decimal("25.00"), "D", "Tidak Baik"),
)
#: how many of the lowest elements are flagged as priorities for improvement (see _priorities)
PRIORITIES = 3
#: a report's period: a year, a semester or a month
PERIOD = r"^[0-9]{4}(-(0[1-9]|1[0-2]|S[12]))?$"
# Below this many respondents in a report, its per-element figures, IKM, profile and suggestions
# would be one or a few people's own answers: they are withheld (the count is still shown).
MIN_RESPONDENTS = 5
WITHHELD = "terlalu sedikit responden untuk ditampilkan tanpa mengenali orangnya"

# Krejcie & Morgan (1970): chi-square for 1 degree of freedom at 95 %, the population
# proportion and the margin of error.
CHI_SQUARE = Decimal("3.841")
PROPORTION = Decimal("0.5")
MARGIN = Decimal("0.05")


class InvalidAnswersError(ValueError):
    """Scores that are not nine answers on the 1–4 scale."""


def check_scores(scores: Mapping[str, int]) -> dict[str, int]:
    """The nine scores in order U1–U9; every element answered, each 1–4 (an integer: not
    ``true``, not ``4.0``). Errors in Indonesian, for the person who answered."""
    missing = [code for code in CODES if code not in scores]
    unknown = sorted(set(scores) - set(CODES))
    if missing:
        raise InvalidAnswersError(f"Jawab semua unsur U1–U9: belum dijawab {', '.join(missing)}.")
    if unknown:
        raise InvalidAnswersError(f"Unsur yang tidak dikenal: {', '.join(unknown)} (hanya U1–U9).")
    wrong = [code for code in CODES if type(scores[code]) is not int or scores[code] not in SCALE]
    if wrong:
        raise InvalidAnswersError(f"Nilai {', '.join(wrong)} harus bilangan bulat 1, 2, 3 atau 4.")
    return {code: scores[code] for code in CODES}


def round2(value: Fraction | Decimal) -> Decimal:
    """Half up, to 2 decimals (not Python's round-half-even)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def category(ikm: Decimal) -> tuple[str, str]:
    """(letter, label) of an IKM already rounded to 2 decimals."""
    for lowest, letter, label in CATEGORIES:
        if ikm >= lowest:
            return letter, label
    raise ValueError(f"IKM {ikm} is below 25.00: not computed from 1–4 scores")


@dataclass(frozen=True)
class ElementFigure:
    code: str
    name: str
    nrr: Fraction
    weighted: Fraction
    priority: bool

    @property
    def nrr_shown(self) -> Decimal:
        return round2(self.nrr)


@dataclass(frozen=True)
class Figures:
    respondents: int
    elements: tuple[ElementFigure, ...]
    ikm_exact: Fraction | None

    @property
    def ikm(self) -> Decimal | None:
        return None if self.ikm_exact is None else round2(self.ikm_exact)

    @property
    def category(self) -> tuple[str, str] | None:
        return None if self.ikm is None else category(self.ikm)

    @property
    def priorities(self) -> list[str]:
        return [element.code for element in self.elements if element.priority]


def compute(responses: Iterable[Mapping[str, int]], priorities: int = PRIORITIES) -> Figures:
    """The figures of a set of responses (each the nine scores by code). No response: no IKM."""
    totals = dict.fromkeys(CODES, 0)
    count = 0
    for response in responses:
        scores = check_scores(response)
        for code in CODES:
            totals[code] += scores[code]
        count += 1
    if count == 0:
        return Figures(
            0, tuple(ElementFigure(e.code, e.name, Fraction(0), Fraction(0), False) for e in ELEMENTS), None
        )
    nrr = {code: Fraction(totals[code], count) for code in CODES}
    flagged = _priorities(nrr, priorities)
    elements = tuple(
        ElementFigure(e.code, e.name, nrr[e.code], nrr[e.code] * Fraction(1, 9), e.code in flagged)
        for e in ELEMENTS
    )
    ikm = sum((element.weighted for element in elements), Fraction(0)) * 25
    return Figures(count, elements, ikm)


def _priorities(nrr: Mapping[str, Fraction], count: int) -> set[str]:
    """The (up to) ``count`` lowest elements. Elements tied at the cut that would make more than
    ``count`` are left out — unless that leaves none: then the lowest, tied, are the priorities.
    An element at the highest NRR never is (all equal: no priority)."""
    if count <= 0:
        return set()
    best = max(nrr.values())
    cut = sorted(nrr.values())[min(count, len(nrr)) - 1]
    chosen = {code for code, value in nrr.items() if value <= cut and value < best}
    if len(chosen) > count:
        chosen = {code for code, value in nrr.items() if value < cut}
        if not chosen:
            lowest = min(nrr.values())
            chosen = {code for code, value in nrr.items() if value == lowest and value < best}
    return chosen


def sample_size(population: int) -> int:
    """Krejcie–Morgan: s = X²·N·P(1−P) / (d²(N−1) + X²·P(1−P)), rounded half up as their
    published table is (15 → 14, 50 → 44, 500 → 217); N = 0: 0."""
    if population < 0:
        raise ValueError("population: cannot be negative")
    if population == 0:
        return 0
    spread = CHI_SQUARE * PROPORTION * (1 - PROPORTION)
    size = spread * population / (MARGIN * MARGIN * (population - 1) + spread)
    return int(size.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def figures_json(figures: Figures) -> dict[str, Any]:
    """The figures as JSON (numbers rounded for display; the exact ones are not needed)."""
    letter_label = figures.category
    return {
        "respondents": figures.respondents,
        "elements": [
            {
                "code": e.code,
                "name": e.name,
                "nrr": float(e.nrr_shown) if figures.respondents else None,
                "weighted_nrr": float(
                    (Decimal(e.weighted.numerator) / Decimal(e.weighted.denominator)).quantize(
                        Decimal("0.001"), rounding=ROUND_HALF_UP
                    )
                )
                if figures.respondents
                else None,
                "priority": e.priority,
            }
            for e in figures.elements
        ],
        "ikm": float(figures.ikm) if figures.ikm is not None else None,
        "category": letter_label[0] if letter_label else None,
        "category_label": letter_label[1] if letter_label else None,
        "priorities": figures.priorities,
    }


def withheld(report: dict[str, Any]) -> dict[str, Any]:
    """A report with fewer than :data:`MIN_RESPONDENTS` (and more than none): what could be a
    person's own answers removed; the respondents, population and sample size stay."""
    return {
        **report,
        "elements": [{**e, "nrr": None, "weighted_nrr": None, "priority": False} for e in report["elements"]],
        "ikm": None,
        "category": None,
        "category_label": None,
        "priorities": [],
        "profile": {},
        "suggestions": [],
        "withheld": True,
        "withheld_reason": f"{WITHHELD} (kurang dari {MIN_RESPONDENTS} responden)",
    }


def months_of(period: str) -> list[str]:
    """The months (``YYYY-MM``) of a period key (:data:`PERIOD`)."""
    if not re.fullmatch(PERIOD, period):
        raise ValueError(f"period: YYYY, YYYY-S1, YYYY-S2 or YYYY-MM, not {period!r}")
    if len(period) == 4:
        return [f"{period}-{m:02d}" for m in range(1, 13)]
    if period[5] == "S":
        first = 1 if period[6] == "1" else 7
        return [f"{period[:4]}-{m:02d}" for m in range(first, first + 6)]
    return [period]


# -- the decisions: once per case, once per invitation ---------------------------------------
class SurveyError(Exception):
    """A survey command the invitation's state does not allow."""


class AlreadyAnsweredError(SurveyError):
    """This invitation (this case) has its answer already."""


class NoInvitationError(SurveyError):
    """No invitation for this token or case."""


def decide_invitation(history: Sequence[Event], invitation: SurveyInvited) -> list[Event]:
    return [] if history else [invitation]  # once per case, whatever is redelivered


def decide_answer(history: Sequence[Event], answer: SurveyAnswered) -> list[Event]:
    if history:
        raise AlreadyAnsweredError(f"response {answer.response_id} exists already")
    return [answer]


def answer(
    response_id: str,
    service: SurveyService,
    channel: SurveyChannel,
    scores: dict[str, int],
    profile: RespondentProfile,
    suggestion: str | None,
    now: datetime,
) -> SurveyAnswered:
    checked = check_scores(scores)
    return SurveyAnswered(
        response_id=response_id,
        service=service,
        channel=channel,
        answered_on=now.astimezone(WIB).date(),
        scores=SurveyScores(**{code.lower(): value for code, value in checked.items()}),
        profile=profile,
        suggestion=suggestion,  # scrubbed by the caller
    )

"""The SKM computation (PermenPANRB 14/2017): NRR, weighted NRR, IKM, category, priorities and
the Krejcie–Morgan sample size, against hand-computed and published examples."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from serambi_intake.domain import survey

CODES = survey.CODES


def answers(*rows: str) -> list[dict[str, int]]:
    """``"443434323"`` → {"U1": 4, "U2": 4, ...}."""
    return [dict(zip(CODES, (int(c) for c in row), strict=True)) for row in rows]


CASES = [
    # (name, responses, NRR per element, IKM, category, priorities)
    pytest.param(
        # Published: Dinas Kependudukan dan Pencatatan Sipil Kabupaten Tulang Bawang Barat,
        # "Pengolahan data Survei Kepuasan Masyarakat per responden dan per unsur pelayanan,
        # tahun 2023 semester 1", https://e-smile.tubaba.go.id/main/skm/laporan/online — one
        # respondent answering 4 to every element: NRR 4 per element, NRR tertimbang 0.44 per
        # element (shown rounded; 4 × 1/9 = 0.444…), Σ = 4, IKM = 4 × 25 = 100, "Sangat Baik".
        answers("444444444"),
        ["4.00"] * 9,
        "100.00",
        ("A", "Sangat Baik"),
        (),  # all equal: no priority
        id="published-tubaba-2023-s1",
    ),
    pytest.param(
        # Hand computation, four respondents:
        #   R1 4 4 3 4 3 3 4 2 3 | R2 3 3 3 4 3 4 4 3 3 | R3 4 3 2 4 3 3 4 2 4 | R4 3 3 2 4 3 4 4 3 2
        # totals U1..U9 = 14 13 10 16 12 14 16 10 12 (Σ 117)
        # NRR = total / 4 = 3.50 3.25 2.50 4.00 3.00 3.50 4.00 2.50 3.00
        # weighted = NRR / 9; Σ weighted = (117 / 4) / 9 = 3.25; IKM = 3.25 × 25 = 81.25 → B
        # lowest three NRR: 2.50, 2.50, 3.00 — but U5 and U9 tie at 3.00, which would make four:
        # the priorities are U3 and U8
        answers("443433423", "333434433", "432433424", "332434432"),
        ["3.50", "3.25", "2.50", "4.00", "3.00", "3.50", "4.00", "2.50", "3.00"],
        "81.25",
        ("B", "Baik"),
        ("U3", "U8"),
        id="hand-four-respondents",
    ),
    pytest.param(
        # Three respondents: 3 3 3 3 3 3 3 3 3 | 3 2 2 3 3 3 3 2 3 | 3 3 3 3 3 3 2 2 2
        # totals U1..U9 = 9 8 8 9 9 9 8 7 8 (Σ 75); NRR = total / 3 =
        # 3.00 2.67 2.67 3.00 3.00 3.00 2.67 2.33 2.67; Σ NRR = 75 / 3 = 25;
        # IKM = 25 / 9 × 25 = 69.444… → 69.44 → C (65.00–76.60)
        # lowest three: 2.33 (U8), then 2.67 (U2, U3, U7, U9: four tied, too many) → U8 alone
        answers("333333333", "322333323", "333333222"),
        ["3.00", "2.67", "2.67", "3.00", "3.00", "3.00", "2.67", "2.33", "2.67"],
        "69.44",
        ("C", "Kurang Baik"),
        ("U8",),
        id="hand-three-respondents-thirds",
    ),
    pytest.param(
        # Two respondents, 4 everywhere but U3 (2, 3) and U8 (3, 4): NRR U3 2.50, U8 3.50, others
        # 4.00; Σ NRR = 7 × 4 + 2.5 + 3.5 = 34; IKM = 34 / 9 × 25 = 94.444… → 94.44 → A.
        # The third lowest is 4.00, the highest: only U3 and U8 are priorities.
        answers("442444434", "443444444"),
        ["4.00", "4.00", "2.50", "4.00", "4.00", "4.00", "4.00", "3.50", "4.00"],
        "94.44",
        ("A", "Sangat Baik"),
        ("U3", "U8"),
        id="hand-two-low-elements",
    ),
    pytest.param(
        # Everyone 2 but U7 = 3: Σ NRR = 8 × 2 + 3 = 19; IKM = 19 / 9 × 25 = 52.777… → 52.78 → D;
        # eight tied lowest, none below them: those eight are the priorities
        answers("222222322", "222222322"),
        ["2.00"] * 6 + ["3.00"] + ["2.00"] * 2,
        "52.78",
        ("D", "Tidak Baik"),
        ("U1", "U2", "U3", "U4", "U5", "U6", "U8", "U9"),
        id="hand-mostly-two",
    ),
]


@pytest.mark.parametrize(("responses", "nrr", "ikm", "category", "priorities"), CASES)
def test_figures(responses, nrr, ikm, category, priorities) -> None:
    figures = survey.compute(responses)
    assert figures.respondents == len(responses)
    assert [str(e.nrr_shown) for e in figures.elements] == nrr
    for element in figures.elements:
        assert element.weighted == element.nrr * Fraction(1, 9)
    assert str(figures.ikm) == ikm
    assert figures.category == category
    assert tuple(figures.priorities) == tuple(priorities)


@pytest.mark.parametrize(
    ("ikm", "letter"),
    [
        ("100.00", "A"),
        ("88.31", "A"),
        ("88.30", "B"),
        ("76.61", "B"),
        ("76.60", "C"),
        ("65.00", "C"),
        ("64.99", "D"),
        ("25.00", "D"),
    ],
)
def test_category_bounds(ikm: str, letter: str) -> None:
    assert survey.category(Decimal(ikm))[0] == letter


def test_ikm_is_rounded_half_up_before_the_category() -> None:
    assert survey.round2(Fraction(7660500, 100000)) == Decimal("76.61")  # 76.605 → 76.61, B
    assert survey.category(survey.round2(Fraction(7660500, 100000)))[0] == "B"


@pytest.mark.parametrize(
    ("population", "size"),
    [
        # s = 3.841·N·0.25 / (0.0025·(N−1) + 3.841·0.25), rounded half up: Krejcie & Morgan's
        # published table (1970) row by row — 15: 14.47 → 14, 50: 44.34 → 44, 500: 217.47 → 217
        # (rounding up would give 15, 45 and 218), 100: 79.51 → 80
        (0, 0),
        (1, 1),
        (10, 10),
        (15, 14),
        (20, 19),
        (50, 44),
        (100, 80),
        (200, 132),
        (500, 217),
        (1000, 278),
        (10_000, 370),
        (1_000_000, 384),
    ],
)
def test_krejcie_morgan(population: int, size: int) -> None:
    assert survey.sample_size(population) == size


def test_no_response_has_no_ikm() -> None:
    figures = survey.compute([])
    assert figures.respondents == 0 and figures.ikm is None and figures.category is None


@pytest.mark.parametrize("bad", [{"U1": 5}, {"U1": 0}, {"U1": "4"}])
def test_scores_outside_the_scale_are_refused(bad) -> None:
    with pytest.raises(survey.InvalidAnswersError):
        survey.compute([{**answers("444444444")[0], **bad}])


def test_missing_element_is_refused() -> None:
    row = answers("444444444")[0]
    del row["U9"]
    with pytest.raises(survey.InvalidAnswersError):
        survey.check_scores(row)


def test_instrument_has_the_regulation_wording() -> None:
    assert [e.code for e in survey.ELEMENTS] == [f"U{n}" for n in range(1, 10)]
    assert survey.ELEMENTS[3].answers == ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")
    assert all(len(e.answers) == 4 for e in survey.ELEMENTS)


@pytest.mark.parametrize(
    ("period", "months"),
    [
        ("2026-03", ["2026-03"]),
        ("2026-S1", [f"2026-{m:02d}" for m in range(1, 7)]),
        ("2026-S2", [f"2026-{m:02d}" for m in range(7, 13)]),
        ("2026", [f"2026-{m:02d}" for m in range(1, 13)]),
    ],
)
def test_periods(period: str, months: list[str]) -> None:
    assert survey.months_of(period) == months


@pytest.mark.parametrize("period", ["2026-13", "2026-S3", "26", "2026-3", "2026-00"])
def test_a_period_outside_the_pattern_is_refused(period: str) -> None:
    with pytest.raises(ValueError, match="period"):
        survey.months_of(period)


def test_scores_are_integers_and_errors_are_in_indonesian() -> None:
    from pydantic import ValidationError
    from serambi_intake.api.survey import AnswerIn

    all_four = {f"U{n}": 4 for n in range(1, 10)}
    for wrong in (True, 4.0, "4"):
        with pytest.raises(ValidationError):  # JSON true is not the score 1
            AnswerIn.model_validate({"scores": {**all_four, "U1": wrong}})
    with pytest.raises(survey.InvalidAnswersError, match=r"^Nilai U2 harus bilangan bulat 1, 2, 3 atau 4\.$"):
        survey.check_scores({**all_four, "U2": True})
    with pytest.raises(survey.InvalidAnswersError, match=r"belum dijawab U9"):
        survey.check_scores({f"U{n}": 4 for n in range(1, 9)})


def test_the_suggestion_is_scrubbed_first_then_counted() -> None:
    from pydantic import ValidationError
    from serambi_intake.api.survey import AnswerIn

    all_four = {f"U{n}": 4 for n in range(1, 10)}
    # 2,006 characters typed, 1,997 once the e-mail address is replaced: accepted
    shrinking = "a" * 1980 + " siti.rahayu@example.go.id"
    assert len(AnswerIn.model_validate({"scores": all_four, "suggestion": shrinking}).suggestion) == 1997
    # 1,999 typed, 2,009 once scrubbed: refused, not cut silently
    with pytest.raises(ValidationError, match="Saran paling banyak 2000 karakter"):
        AnswerIn.model_validate({"scores": all_four, "suggestion": "x" * 1992 + " a@b.id"})
    assert AnswerIn.model_validate({"scores": all_four, "suggestion": "a\r\nb"}).suggestion == "a\nb"


def test_the_weighted_nrr_is_rounded_half_up() -> None:
    # 399 × 2 and one 3 on U1: NRR = 801 / 400 = 2.0025, weighted = 0.2225 exactly → 0.223
    # (round-half-even would show 0.222)
    responses = [{**{f"U{n}": 4 for n in range(1, 10)}, "U1": 2} for _ in range(399)]
    responses.append({**{f"U{n}": 4 for n in range(1, 10)}, "U1": 3})
    [u1, *_] = survey.figures_json(survey.compute(responses))["elements"]
    assert u1["weighted_nrr"] == 0.223

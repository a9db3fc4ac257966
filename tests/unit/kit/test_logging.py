"""Log redaction: personal data shapes are masked, case references are kept."""

import pytest
from serambi_kit.logging import redact


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("contact budi.santoso@example.go.id now", "budi.santoso@example.go.id"),
        ("phone 081234567890", "081234567890"),
        ("phone 0812-3456-7890", "0812-3456-7890"),
        ("phone 0813 4567 8901", "0813 4567 8901"),
        ("phone +6281234567890", "+6281234567890"),
        ("nik 6171012345670001", "6171012345670001"),
    ],
)
def test_personal_data_is_masked(text, hidden):
    assert hidden not in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "AUD-2026-000123",
        "ADU-2026-000045",
        "2026-11-28T12:22:43.685937Z",
        "sequence 1234567",
        "req-1795868112",
    ],
)
def test_case_references_times_and_counters_are_kept(text):
    assert redact(text) == text

"""SMS text: GSM-7 lengths, transliteration and splitting into parts of at most 160 septets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from serambi_notifier.domain import gsm7


def test_extension_characters_count_as_two_septets():
    assert gsm7.length("abc") == 3
    assert gsm7.length("€[]") == 6


def test_characters_outside_gsm7_are_refused_by_length():
    with pytest.raises(ValueError):
        gsm7.length("日本")


def test_look_alikes_and_accents_are_transliterated_into_gsm7():
    text = gsm7.to_gsm7("“Jadwal” – pukul 09.00… Café Ōta")
    assert text == '"Jadwal" - pukul 09.00... Café Ota'
    assert gsm7.is_gsm7(text)


def test_a_text_of_160_septets_is_one_part_unchanged():
    text = "x" * 160
    assert gsm7.split(text) == [text]


def test_a_longer_text_is_split_at_word_boundaries_with_numbered_parts():
    words = " ".join(f"kata{n}" for n in range(60))
    parts = gsm7.split(words)
    assert len(parts) == 3
    assert [p.split(" ", 1)[0] for p in parts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(gsm7.length(p) <= 160 for p in parts)
    assert " ".join(p.split(" ", 1)[1] for p in parts) == words


def test_extension_characters_are_counted_when_splitting():
    parts = gsm7.split("€ " * 100)
    assert all(gsm7.length(p) <= 160 for p in parts)
    assert sum(p.count("€") for p in parts) == 100


def test_beyond_the_part_limit_the_text_is_cut_and_marked():
    parts = gsm7.split("kata " * 400, max_parts=2)
    assert len(parts) == 2
    assert parts[-1].endswith("...")
    assert all(gsm7.length(p) <= 160 for p in parts)


@given(st.text(min_size=1, max_size=1200))
def test_every_part_of_any_text_fits_one_sms(text):
    parts = gsm7.split(text, max_parts=10)
    assert parts and all(gsm7.is_gsm7(p) and gsm7.length(p) <= 160 for p in parts)

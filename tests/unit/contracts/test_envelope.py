"""The CloudEvents 1.0 binary-mode codec over NATS headers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from serambi_contracts import Envelope, EnvelopeError, decode_headers, encode_headers

WHEN = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def envelope(**overrides) -> Envelope:
    values = {
        "id": "7d0f3c1e-1",
        "source": "/serambi/intake",
        "type": "id.go.kalbarprov.ekonomi.intake.RequestSubmitted.v1",
        "time": WHEN,
        "subject": "AUD-2026-000001",
        "correlationid": "corr-1",
        "causationid": "cause-1",
        "aggregateversion": 3,
    }
    return Envelope(**{**values, **overrides})


def test_every_attribute_travels_as_a_ce_prefixed_header():
    headers = encode_headers(envelope())
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] == "7d0f3c1e-1"
    assert headers["ce-source"] == "/serambi/intake"
    assert headers["ce-type"].endswith("RequestSubmitted.v1")
    assert headers["ce-time"] == "2026-03-02T01:30:00.000000Z"
    assert headers["ce-subject"] == "AUD-2026-000001"
    assert headers["ce-datacontenttype"] == "application/json"
    assert headers["ce-correlationid"] == "corr-1"
    assert headers["ce-aggregateversion"] == "3"


def test_a_round_trip_gives_back_the_same_envelope():
    original = envelope(dataschema="https://example.org/s.json", extensions={"traceparent": "00-ab"})
    assert decode_headers(encode_headers(original)) == original


def test_absent_optional_attributes_are_not_sent():
    headers = encode_headers(envelope(subject=None, causationid=None, aggregateversion=None))
    assert "ce-subject" not in headers and "ce-causationid" not in headers
    assert "ce-aggregateversion" not in headers


def test_non_ascii_space_quote_and_percent_are_percent_encoded_as_utf8():
    headers = encode_headers(envelope(subject='Dinas "Koperasi" 100% – Pontianak'))
    assert headers["ce-subject"] == "Dinas%20%22Koperasi%22%20100%25%20%E2%80%93%20Pontianak"
    assert decode_headers(headers).subject == 'Dinas "Koperasi" 100% – Pontianak'


@given(st.text(min_size=1, max_size=200))
def test_any_unicode_subject_survives_the_round_trip(text):
    headers = encode_headers(envelope(subject=text))
    assert all(32 < ord(c) < 127 for c in headers["ce-subject"])
    assert decode_headers(headers).subject == text


def test_time_keeps_its_instant_whatever_offset_it_was_given_in():
    wib = timezone(timedelta(hours=7))
    decoded = decode_headers(encode_headers(envelope(time=WHEN.astimezone(wib))))
    assert decoded.time == WHEN


def test_header_names_are_matched_case_insensitively():
    headers = {key.upper(): value for key, value in encode_headers(envelope()).items()}
    assert decode_headers(headers).id == "7d0f3c1e-1"


@pytest.mark.parametrize("missing", ["ce-specversion", "ce-id", "ce-source", "ce-type"])
def test_a_missing_required_attribute_is_rejected_by_name(missing):
    headers = encode_headers(envelope())
    del headers[missing]
    with pytest.raises(EnvelopeError, match=missing):
        decode_headers(headers)


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("ce-specversion", "0.3", "not supported"),
        ("ce-time", "yesterday", "RFC 3339"),
        ("ce-time", "2026-03-02T01:30:00", "no UTC offset"),
        ("ce-aggregateversion", "0", "positive integer"),
        ("ce-aggregateversion", "x", "positive integer"),
        ("ce-subject", "%FF%FE", "not valid UTF-8"),
        ("ce-id", "", "ce-id"),
    ],
)
def test_malformed_attributes_are_rejected_with_the_reason(header, value, message):
    headers = {**encode_headers(envelope()), header: value}
    with pytest.raises(EnvelopeError, match=message):
        decode_headers(headers)


def test_no_headers_at_all_is_a_malformed_envelope():
    with pytest.raises(EnvelopeError, match="missing required"):
        decode_headers(None)


def test_extension_names_must_follow_the_cloudevents_naming_rule():
    with pytest.raises(EnvelopeError, match="extension names"):
        envelope(extensions={"Trace-Parent": "x"})

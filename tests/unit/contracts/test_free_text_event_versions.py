"""RequestSubmitted and AudienceRequested, version 2: the requester's topic (and purpose) travel
sealed; version 1, which carried them in clear, stays readable and is upcast on reading, so every
reader sees version 2 (issue 19, item 10)."""

from __future__ import annotations

from datetime import UTC, datetime

from serambi_contracts import Envelope, event_class
from serambi_contracts.base import Sealed
from serambi_contracts.intake import RequestSubmitted, RequestSubmittedV1
from serambi_contracts.scheduling import (
    AudienceCancelled,
    AudienceHeld,
    AudienceNoShow,
    AudienceRequested,
    AudienceRequestedV1,
)
from serambi_kit.eventstore.model import decode_event

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SEALED = {"key": "k1", "nonce": "A" * 16, "data": "AAAA"}
REQUESTER = {
    "name": SEALED,
    "position": "Ketua",
    "institution": "Kadin",
    "institution_type": "other_institution",
    "email": SEALED,
}
V1_REQUEST = {
    "tracking_code": "AUD-2026-000001",
    "channel": "online",
    "requester": REQUESTER,
    "topic": "Forum investasi Yohanes",
    "purpose": "Audiensi dengan Yohanes Lim.",
    "participants": 2,
    "submitted_at": AT.isoformat(),
    "answer_due_at": AT.isoformat(),
    "access_token_sha256": "a" * 64,
}
V1_AUDIENCE = {
    "audience_id": "AUD-2026-000001",
    "request_tracking_code": "AUD-2026-000001",
    "topic": "Forum investasi Yohanes",
    "institution": "Kadin",
    "institution_type": "other_institution",
    "requester_position": "Ketua",
    "participants": 2,
    "submitted_at": AT.isoformat(),
    "answer_due_at": AT.isoformat(),
}


def envelope(event_type: str) -> Envelope:
    return Envelope(id="e-1", source="/serambi/test", type=event_type, time=AT)


def test_version_2_is_published_with_the_topic_and_purpose_sealed_and_marked_personal():
    assert RequestSubmitted.event_type().endswith("intake.RequestSubmitted.v2")
    assert AudienceRequested.event_type().endswith("scheduling.AudienceRequested.v2")
    assert (
        RequestSubmittedV1.name() == "RequestSubmitted" and AudienceRequestedV1.name() == "AudienceRequested"
    )
    for event, fields in (
        (RequestSubmitted, ("topic", "purpose")),
        (AudienceRequested, ("topic",)),
        (AudienceHeld, ("notes_sealed",)),
        (AudienceNoShow, ("notes_sealed",)),
        (AudienceCancelled, ("reason_sealed",)),
    ):
        schema = event.json_schema()
        assert schema["$defs"]["Sealed"]["x-personal-data"] is True
        for name in fields:
            field = schema["properties"][name]
            assert any(v.get("$ref") == "#/$defs/Sealed" for v in field.get("anyOf", [field])), (event, name)
            assert "string" not in {v.get("type") for v in field.get("anyOf", [field])}, (event, name)
    request = RequestSubmitted.model_validate({**V1_REQUEST, "topic": SEALED, "purpose": SEALED})
    assert isinstance(request.topic, Sealed)
    clear = {**V1_REQUEST}
    try:
        RequestSubmitted.model_validate(clear)
    except ValueError as exc:
        assert "topic" in str(exc) and "purpose" in str(exc)
    else:
        raise AssertionError("version 2 must refuse a topic in clear")


def test_a_stored_version_1_event_is_read_as_version_2_with_the_clear_text_it_recorded():
    v1 = event_class(RequestSubmittedV1.event_type())
    assert v1 is RequestSubmittedV1 and RequestSubmittedV1.event_type().endswith("RequestSubmitted.v1")
    import json

    request = decode_event(envelope(RequestSubmittedV1.event_type()), json.dumps(V1_REQUEST).encode())
    assert type(request) is RequestSubmitted
    assert (request.topic, request.purpose) == ("Forum investasi Yohanes", "Audiensi dengan Yohanes Lim.")
    assert request.requester.name == Sealed(**SEALED) and request.participants == 2
    audience = decode_event(envelope(AudienceRequestedV1.event_type()), json.dumps(V1_AUDIENCE).encode())
    assert type(audience) is AudienceRequested and audience.topic == "Forum investasi Yohanes"
    sealed = decode_event(
        envelope(RequestSubmitted.event_type()),
        json.dumps({**V1_REQUEST, "topic": SEALED, "purpose": SEALED}).encode(),
    )
    assert type(sealed) is RequestSubmitted and sealed.topic == Sealed(**SEALED)

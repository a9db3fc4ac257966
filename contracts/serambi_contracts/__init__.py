"""Serambi's public event contracts: models, the CloudEvents envelope and the subject scheme."""

from .base import Event
from .catalogue import BY_TYPE, EVENTS, UnknownEventTypeError, event_class
from .envelope import Envelope, EnvelopeError, decode_headers, encode_headers
from .subjects import AggregateRef, SubjectError, events_of, parse_subject

__all__ = [
    "BY_TYPE",
    "EVENTS",
    "AggregateRef",
    "Envelope",
    "EnvelopeError",
    "Event",
    "SubjectError",
    "UnknownEventTypeError",
    "decode_headers",
    "encode_headers",
    "event_class",
    "events_of",
    "parse_subject",
]

"""What a notice needs to know about its case: the citizen's (sealed) contact, the details its
templates mention, the audience's slot and iCalendar SEQUENCE.

Events that carry the contact (RequestSubmitted, ComplaintReceived) are their own source. Later
events take it from the ``cases`` read model; when the read model has not caught up yet the case
is not ``ready`` and the planner waits (and, after a while, lets the message be retried).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from serambi_contracts import complaints as c
from serambi_contracts import scheduling as s
from serambi_contracts.intake import RequestSubmitted
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_contracts.survey import SurveyInvited, SurveyService
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.recent import Recent

from ..application.ports import SURVEY_TOKEN, THREAD, TOKEN, CaseInfo, CaseSource
from .projections import CASES, case_id, document_id, on_request_submitted

CASE_FIELDS = (
    "tracking_code",
    "topic",
    "institution",
    "summary",
    "tier",
    "answer_due_at",
    "due_at",
    "received_at",
    "submitted_at",
    "disclosure",
    "channel",
    "team",
)
CLOCK_LABELS = {
    "audience_answer": "jawaban permohonan audiensi",
    "ringan": "pengaduan ringan",
    "normatif": "pengaduan bersifat normatif",
    "tidak_berkadar_pengawasan": "pengaduan tidak berkadar pengawasan",
    "berkadar_pengawasan": "pengaduan berkadar pengawasan",
}
AUDIENCE_POSITION = "_applied.scheduling_audience"
#: audience events that carry all their notice needs besides the request's contact
SELF_CONTAINED_AUDIENCE_EVENTS = (s.AudienceScheduled, s.AudienceProposed, s.AudienceReminderDue)
RECENT_SECONDS = 60.0  # how long a planner keeps the requests it acknowledged
RECENT_SIZE = 1024
TOPIC = "case.topic"  # a request's topic, the requester's own words (sealed)


def _case(source: Mapping[str, Any] | None = None, **values: Any) -> dict[str, Any]:
    """The template's ``case``: every known field, None when unknown."""
    case = dict.fromkeys(CASE_FIELDS)
    for given in (source or {}, values):
        case.update({k: v for k, v in given.items() if k in CASE_FIELDS and v is not None})
    return case


def _context(case: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "case": case,
        "slot": None,
        "sequence": 0,
        "invitation": False,
        "letter": {"attached": False, "url": None},
        "clock_label": "",
        "answer": None,
        "reason": None,
        **extra,
    }


class CaseDocs:
    """The ``cases`` read model, and the requests this planner acknowledged in the last
    ``seconds``: a request's invitation follows its acknowledgement within moments, and takes
    the request's document from here instead of reading it back (issue #21). Kept is what the
    projection writes for RequestSubmitted (the contact still sealed, so an erasure still
    shows: the vault refuses the key); the projection's only later change to a request's
    document, ``withdrawn_at``, is nothing a notice uses. Another replica reads the database."""

    def __init__(self, db: AsyncDatabase, recent: Recent[str, dict[str, Any]]) -> None:
        self.db = db
        self._recent = recent

    async def get(self, kind: str, identifier: str) -> dict[str, Any] | None:
        doc_id = case_id(kind, identifier)
        kept = self._recent.get(doc_id)
        return kept if kept is not None else await self.db[CASES].find_one({"_id": doc_id})

    def remember_request(self, event: RequestSubmitted, recorded: RecordedEvent) -> None:
        self._recent.put(document_id(recorded), on_request_submitted(event, recorded).update["$set"])


def _slot_of(event: Any) -> dict[str, Any]:
    return {
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "room": event.room,
        "host": event.host,
        "location": getattr(event, "location", None),
    }


def case_source(db: AsyncDatabase | Callable[[], AsyncDatabase]) -> CaseSource:
    """The planner's ``CaseSource``: ``case_info`` on ``db`` (or on what ``db()`` gives once the
    runtime is connected)."""

    recent: Recent[str, dict[str, Any]] = Recent(RECENT_SECONDS, RECENT_SIZE)

    async def source(recorded: RecordedEvent) -> CaseInfo:
        return await case_info(CaseDocs(db() if callable(db) else db, recent), recorded)

    return source


async def case_info(docs: CaseDocs, recorded: RecordedEvent) -> CaseInfo:
    event = recorded.event
    if isinstance(event, RequestSubmitted):
        docs.remember_request(event, recorded)
        r = event.requester
        legacy = event.topic if isinstance(event.topic, str) else None  # recorded before sealing
        return CaseInfo(
            event.tracking_code,
            "requester",
            {"name": _dump(r.name), "email": _dump(r.email), "phone": _dump(r.phone)},
            _context(
                _case(
                    tracking_code=event.tracking_code,
                    topic=legacy,
                    institution=r.institution,
                    answer_due_at=event.answer_due_at,
                    submitted_at=event.submitted_at,
                )
            ),
            sealed={TOKEN: _dump(event.access_token), **({} if legacy else {TOPIC: _dump(event.topic)})},
        )
    if isinstance(event, c.ComplaintReceived):
        return CaseInfo(
            event.tracking_code,
            "complainant",
            {
                "name": _dump(event.complainant_name),
                "email": _dump(event.complainant_email),
                "phone": _dump(event.complainant_phone),
            },
            _context(
                _case(
                    tracking_code=event.tracking_code,
                    tier=event.tier.value if event.tier else None,
                    due_at=event.due_at,
                    received_at=event.received_at,
                    disclosure=event.disclosure.value,
                    channel=event.channel.value,
                )
            ),
            sealed={
                "case.summary": _dump(event.summary),
                TOKEN: _dump(event.access_token),
                THREAD: _dump(event.email_thread),
            },
        )
    if isinstance(event, SLAWarning | SLABreached):
        return await _sla_info(docs, recorded)
    if isinstance(event, SurveyInvited):
        return await _survey_info(docs, event)
    if recorded.ref.key == "scheduling.audience":
        return await _audience_info(docs, recorded)
    if recorded.ref.key == "intake.request":
        return await _later_request_info(docs, recorded)
    if recorded.ref.key == "complaints.complaint":
        return await _complaint_info(docs, recorded)
    return CaseInfo(recorded.ref.id, context=_context(_case(tracking_code=recorded.ref.id)))


def _dump(value: Any) -> dict | None:
    return None if value is None else value.model_dump(mode="json")


def _topic_of(*docs: Mapping[str, Any]) -> dict[str, Any]:
    """The sealed topic of the first document that has one (none for a request recorded before
    sealing: its clear topic is already in ``case``)."""
    sealed = next((doc["sealed_topic"] for doc in docs if doc.get("sealed_topic")), None)
    return {TOPIC: sealed} if sealed else {}


async def _request_info(docs: CaseDocs, code: str) -> tuple[dict | None, dict[str, Any]]:
    doc = await docs.get("request", code)
    return doc, _case(doc, tracking_code=code)


async def _later_request_info(docs: CaseDocs, recorded: RecordedEvent) -> CaseInfo:
    """A request's later events (e.g. RequestLinkRequested): its contact from the read model."""
    code = recorded.ref.id
    request, case = await _request_info(docs, code)
    if request is None or "contact" not in request:
        return CaseInfo(code, missing=f"request {code} not projected yet")
    return CaseInfo(
        code,
        "requester",
        request["contact"],
        _context(case),
        sealed={TOKEN: request.get("sealed_token"), **_topic_of(request)},
    )


async def _audience_info(docs: CaseDocs, recorded: RecordedEvent) -> CaseInfo:
    event: Any = recorded.event
    code = getattr(event, "request_tracking_code", recorded.ref.id)
    request, case = await _request_info(docs, code)
    if request is None or "contact" not in request:
        return CaseInfo(code, missing=f"request {code} not projected yet")
    audience: dict[str, Any] = {}
    if not _told_by_request_and_event(event, request):
        audience = await docs.get("audience", recorded.ref.id) or {}
        applied = int((audience.get("_applied") or {}).get("scheduling_audience", 0))
        if applied < recorded.version - 1:
            return CaseInfo(code, missing=f"audience {recorded.ref.id} at {applied} < {recorded.version - 1}")
    for key in ("topic", "institution"):
        case[key] = case[key] or audience.get(key)
    earlier = [v for v in audience.get("reschedule_versions", []) if v < recorded.version]
    context = _context(case)
    if isinstance(
        event, s.AudienceScheduled | s.AudienceRescheduled | s.AudienceProposed | s.AudienceReminderDue
    ):  # the slot the event names (the read model may be ahead)
        context["slot"] = _slot_of(event)
    elif audience.get("slot"):
        context["slot"] = audience["slot"]
    if isinstance(event, s.AudienceRescheduled):
        context["sequence"] = len(earlier) + 1
    elif isinstance(event, s.AudienceCancelled):
        context["sequence"] = len(earlier)
        context["was_scheduled"] = bool(audience.get("scheduled"))
    context["audience_id"] = recorded.ref.id
    sealed = {TOKEN: request.get("sealed_token"), **_topic_of(request, audience)}
    if isinstance(event, s.AudienceCancelled):
        if event.reason_sealed is not None:  # an officer's words, for the requester's eyes only
            sealed["reason"] = _dump(event.reason_sealed)
        elif not event.withdrawn:
            context["reason"] = event.reason  # recorded before reasons were sealed: in clear
    return CaseInfo(code, "requester", request["contact"], context, sealed=sealed)


def _told_by_request_and_event(event: Any, request: Mapping[str, Any]) -> bool:
    """An event that names its slot and has no iCalendar SEQUENCE to count (the first invitation,
    a proposal, a reminder) needs nothing of the audience's document when the request's has the
    topic and institution: one read less for every invitation (docs/performance.md)."""
    return isinstance(event, SELF_CONTAINED_AUDIENCE_EVENTS) and bool(
        request.get("institution") and (request.get("sealed_topic") or request.get("topic"))
    )


async def _complaint_info(docs: CaseDocs, recorded: RecordedEvent) -> CaseInfo:
    code = recorded.ref.id
    doc = await docs.get("complaint", code)
    if doc is None or "contact" not in doc:
        return CaseInfo(code, missing=f"complaint {code} not projected yet")
    event: Any = recorded.event
    case = _case(doc)
    for key in ("tier", "due_at", "team"):
        value = getattr(event, key, None)
        if value is not None:
            case[key] = getattr(value, "value", value)
    sealed = {
        "case.summary": doc.get("sealed_summary"),
        TOKEN: doc.get("sealed_token"),
        THREAD: doc.get("sealed_email_thread"),
    }
    if isinstance(event, c.ComplaintAnswered | c.ComplaintReplyFailed) and event.answer is not None:
        sealed["answer"] = _dump(event.answer)  # a reply failed on WhatsApp carries the answer again
    if isinstance(event, c.ComplaintReopened):
        sealed["reason"] = _dump(event.reason)
    if isinstance(event, c.ComplaintAssigned):
        handlers = tuple(h for h in (event.assignee, event.team) if h)
    else:
        handlers = tuple(h for h in (doc.get("assignee"), doc.get("team")) if h)
    return CaseInfo(code, "complainant", doc["contact"], _context(case), sealed=sealed, handlers=handlers)


async def _sla_info(docs: CaseDocs, recorded: RecordedEvent) -> CaseInfo:
    """Officer notices: the case's details if known (never waited for)."""
    event: Any = recorded.event
    kind = {
        "scheduling.audience": "audience",
        "intake.request": "request",
        "complaints.complaint": "complaint",
    }.get(recorded.ref.key)
    doc = (await docs.get(kind, recorded.ref.id) if kind else None) or {}
    if kind == "audience" and doc.get("request_tracking_code"):
        request = await docs.get("request", doc["request_tracking_code"]) or {}
        doc = {**request, **{k: v for k, v in doc.items() if v is not None}}
    case = _case(doc, tracking_code=event.case_id)
    label = CLOCK_LABELS.get(event.clock, event.clock.replace("_", " "))
    handlers = tuple(h for h in (doc.get("assignee"), doc.get("team")) if h)
    return CaseInfo(event.case_id, context=_context(case, clock_label=label), handlers=handlers)


async def _survey_info(docs: CaseDocs, event: SurveyInvited) -> CaseInfo:
    """A survey invitation goes to the case's citizen: the requester of an audience, the
    complainant of a complaint (an anonymous one without contact gets nothing)."""
    code = event.case_code
    if event.service is SurveyService.AUDIENSI:
        doc, case = await _request_info(docs, code)
        role, sealed = "requester", _topic_of(doc or {})
    else:
        doc = await docs.get("complaint", code)
        case, role, sealed = _case(doc), "complainant", {}
    if doc is None or "contact" not in doc:
        return CaseInfo(code, missing=f"{event.service.value} {code} not projected yet")
    case["tracking_code"] = code
    context = _context(case, service=event.service.value)
    return CaseInfo(code, role, doc["contact"], context, sealed={**sealed, SURVEY_TOKEN: _dump(event.token)})

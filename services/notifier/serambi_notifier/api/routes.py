"""Notifier's HTTP API: the delivery log for officers, and the SMS gateway's delivery receipts."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field
from serambi_calendar import in_wib
from serambi_contracts.notifier import Channel
from serambi_kit import erasure
from serambi_kit.audit import record_access
from serambi_kit.logging import get_logger
from serambi_kit.pagination import Page, PageRequest, page_query
from serambi_kit.phones import PhoneNumberError, to_e164

from ..adapters import queries
from ..adapters.channels.sms import normalise_status
from .deps import LedgerDep, OfficerDep, RuntimeDep, ledger_of

#: who may search the log by an address or number, and see citizens' masked addresses and the
#: providers' words: finding the deliveries to a contact can identify an anonymous complainant
SEARCHERS = frozenset({"supervisor", "admin"})
SEARCH_PURPOSE = "delivery log searched by email or phone"
STATES = ("held", "sending", "retry", "sent", "failed")
MAX_RECEIPT_BYTES = 16 * 1024
ID_FIELDS = ("client_message_id", "clientMessageId", "message_id", "messageId", "id")
STATUS_FIELDS = ("status", "state", "delivery_status")

log = get_logger(__name__)
router = APIRouter(prefix="/api/v1", tags=["notifications"])


class DeliveryOut(BaseModel):
    """A delivery of the log (instants in WIB): who was told what, through which channel, and
    how it went; the reason as a category, never the provider's words."""

    delivery_id: str
    cause_event_id: str
    case_id: str | None
    cause_type: str | None
    notice: str | None
    channel: str | None
    recipient_kind: str | None = Field(description="citizen or officer")
    recipient_role: str | None
    state: str | None = Field(description="held, sending, retry, sent or failed")
    attempts: int | None
    created_at: datetime | None
    updated_at: datetime | None
    next_attempt_at: datetime | None
    held_until: datetime | None
    sent_at: datetime | None
    failed_at: datetime | None
    reason: str | None
    last_error: str | None
    provider: str | None
    receipt_status: str | None
    receipt_at: datetime | None
    lease_expiries: int
    language: str | None
    recipient: str | None = Field(
        description="masked; a citizen's only for supervisor and admin, and null once they were erased"
    )


class DeliveryDetailOut(DeliveryOut):
    detail: str | None = Field(
        default=None,
        description="supervisor and admin only: the provider's own words (audited), an officer's "
        "addresses masked; null once the citizen was erased",
    )


class DeliveryPageOut(Page[DeliveryOut]):
    pass


class ReceiptOut(BaseModel):
    result: Literal["applied", "ignored"] = Field(
        description="applied, or ignored: a duplicate or an older status"
    )
    status: str = Field(description="the receipt's status, normalised")


@router.get("/deliveries", response_model=DeliveryPageOut)
async def list_deliveries(
    officer: OfficerDep,
    runtime: RuntimeDep,
    ledger: LedgerDep,
    pages: Annotated[PageRequest, Depends(page_query(default=50, maximum=200))],
    case_id: Annotated[str | None, Query(max_length=128)] = None,
    cause_type: Annotated[str | None, Query(max_length=100, description="e.g. RequestSubmitted")] = None,
    notice: Annotated[str | None, Query(max_length=100)] = None,
    channel: Channel | None = None,
    state: Annotated[str | None, Query(pattern="^(" + "|".join(STATES) + ")$")] = None,
    recipient: Annotated[
        str | None,
        Query(
            max_length=320,
            description="an email address or phone number: deliveries to it — a "
            "citizen's through the vault (the data keys it finds; none once the person was erased), "
            "an officer's by keyed hash; never stored or logged in clear",
        ),
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The delivery log, newest first: who was told what, through which channel, and how it
    went (the reason's category). Citizens' addresses are shown masked to supervisor and admin
    only, and not once the person was erased. Searching by ``recipient`` is for supervisor and
    admin, and audited: each case found is recorded as a ``PersonalDataAccessed`` (field
    ``recipient``) before the answer. A citizen is found through the vault, so after an erasure
    the search finds nothing of theirs."""
    search = None
    if recipient:
        if not officer.roles & SEARCHERS:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "recipient: searching by email or phone requires role supervisor or admin",
            )
        search = await _recipient_search(runtime.vault, recipient)
    where = queries.DeliveryFilter(
        case_id=case_id,
        cause_type=cause_type,
        notice=notice,
        channel=channel.value if channel else None,
        state=state,
        recipient=search,
        since=since,
        until=until,
    )
    found = await queries.deliveries(
        ledger,
        where,
        pages,
        masked_citizens=bool(officer.roles & SEARCHERS),
        vault=runtime.vault,
    )
    if search:  # what links a contact to its cases is audited before it is shown
        for case in sorted({item["case_id"] or item["delivery_id"] for item in found["items"]}):
            await record_access(runtime.store, "notifier", case, officer, ["recipient"], SEARCH_PURPOSE)
    return in_wib(found)


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetailOut, response_model_exclude_unset=True)
async def get_delivery(
    delivery_id: Annotated[str, Path(max_length=64)],
    officer: OfficerDep,
    runtime: RuntimeDep,
    ledger: LedgerDep,
) -> dict[str, Any]:
    """One delivery of the log. For supervisor and admin also ``detail``: the provider's own
    words (a bounce), revealed from their sealed copy — a ``PersonalDataAccessed`` (field
    ``delivery_error``) is recorded first — or, for an officer's delivery, with addresses masked;
    None once the citizen was erased."""
    searcher = bool(officer.roles & SEARCHERS)
    document = await ledger.get(delivery_id)
    if document is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such delivery")
    citizen = await queries.revealed_recipient(runtime.vault, document) if searcher else None
    found = queries.view(document, masked_citizens=searcher, citizen=citizen)
    if searcher:
        stored = document.get("detail") or {}
        if stored.get("sealed"):
            await record_access(
                runtime.store,
                "notifier",
                document.get("case_id") or delivery_id,
                officer,
                ["delivery_error"],
                "delivery problem",
            )
            found["detail"] = await runtime.vault.reveal(stored["sealed"])
        else:
            found["detail"] = stored.get("text")
    return in_wib(found)


async def _recipient_search(vault: Any, raw: str) -> queries.RecipientSearch:
    """What a search by ``recipient`` matches: an e-mail address (e-mail deliveries) or a phone
    number in any written form (SMS deliveries), normalised as the planner and the erasure
    normalise them; a citizen by the data keys the vault finds (``erasure.subjects``, as the
    erasure finds them), an officer by the keyed hash of their configured address. 422 for
    anything else (a NIK, a name): the log is searched by contact only."""
    value = raw.strip()
    if "@" in value:
        contact, channel, found_by = value.lower(), Channel.EMAIL, erasure.identifiers(email=value)
    else:
        try:
            contact = to_e164(value)
        except PhoneNumberError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                {
                    "errors": [
                        {
                            "field": "recipient",
                            "rule": "email_or_phone",
                            "message": "recipient: an e-mail address or an Indonesian mobile number",
                        }
                    ]
                },
            ) from None
        channel, found_by = Channel.SMS, [contact]
    return queries.RecipientSearch(
        channel=channel.value,
        officer_hash=vault.lookup_hash(contact),
        subject_keys=tuple(await erasure.subjects(vault, found_by)),
    )


@router.post("/sms/receipts/{provider}", response_model=ReceiptOut)
async def sms_receipt(
    provider: str,
    request: Request,
    runtime: RuntimeDep,
    x_receipt_secret: Annotated[str | None, Header()] = None,
    secret: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, str]:
    """A delivery receipt from the SMS gateway. The gateway proves itself with the shared secret
    (header ``X-Receipt-Secret`` or query ``secret``). Idempotent; a receipt only ever moves a
    delivery's status forward (queued → sent → delivered / failed)."""
    settings = runtime.settings
    expected = settings.sms_receipt_secret.get_secret_value().encode()
    given = (x_receipt_secret or secret or "").encode()
    if not hmac.compare_digest(given, expected):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "receipt secret missing or wrong")
    if provider != settings.sms_provider:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no SMS provider {provider!r} here")
    body = await request.body()
    if len(body) > MAX_RECEIPT_BYTES:
        raise HTTPException(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "receipt too large")
    fields = _fields(body, request.headers.get("content-type", ""), dict(request.query_params))
    message_id = next((str(fields[k]) for k in ID_FIELDS if fields.get(k)), None)
    raw_status = next((str(fields[k]) for k in STATUS_FIELDS if fields.get(k)), None)
    receipt_status = normalise_status(raw_status)
    if not message_id or receipt_status is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY, "a receipt needs a message id and a known status"
        )
    # the ledger only once the gateway proved itself (ledger_of, not a LedgerDep resolved first)
    outcome = await ledger_of(request).apply_receipt(message_id[:100], receipt_status, datetime.now(UTC))
    log.info("sms.receipt", provider=provider, outcome=outcome, status=receipt_status)
    if outcome == "unknown":
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no delivery with this message id")
    return {"result": outcome, "status": receipt_status}


def _fields(body: bytes, content_type: str, query: dict[str, str]) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v for k, v in query.items() if k != "secret"}
    if not body:
        return fields
    if "json" in content_type:
        try:
            parsed = json.loads(body)
        except ValueError:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "body is not JSON") from None
        if not isinstance(parsed, dict):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "body is not an object")
        fields.update(parsed)
    else:
        fields.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
    return fields

"""One submission flow for every channel: idempotency, deadline, sealing, documents, append."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from fastapi import Request
from serambi_calendar import WIB
from serambi_contracts.intake import DocumentRef, IntakeChannel
from serambi_kit.documents import Upload
from serambi_kit.idempotency import Claim, answer_once, fingerprint
from serambi_kit.tracking_links import new_access_token

from .. import application, domain
from .forms import RequestForm


async def submit(
    request: Request,
    form: RequestForm,
    uploads: list[tuple[Upload, str]],
    channel: IntakeChannel,
    now: datetime,
    *,
    received_at: datetime | None = None,
    recorded_by: str | None = None,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    state = request.app.state
    runtime = state.runtime
    # the officer who records it is part of the request: another officer's same key is refused
    by = (recorded_by,) if recorded_by else ()
    print_ = idempotency_key and fingerprint(
        form.model_dump_json(),
        channel.value,
        str(received_at),
        *by,
        *(upload.sha256() for upload, _ in uploads),
    )

    async def work(claim: Claim | None) -> tuple[dict[str, Any], str]:
        due = state.answer_due(received_at or now)
        requester, identity_number = await application.seal_requester(runtime.vault, form.requester())
        token = (claim.token if claim else None) or new_access_token()
        sealed_token = await runtime.vault.seal(requester.name.key, token)  # for the notifier's link
        # the topic and purpose are the requester's own words: sealed under their key too
        topic = await runtime.vault.seal(requester.name.key, form.topic)
        purpose = await runtime.vault.seal(requester.name.key, form.purpose)

        def command(token_sha256: str, documents: tuple[DocumentRef, ...]) -> domain.SubmitRequest:
            return domain.SubmitRequest(
                tracking_code="",
                channel=channel,
                requester=requester,
                topic=topic,
                purpose=purpose,
                participants=form.participants,
                proposed_dates=tuple(form.proposed_dates),
                documents=documents,
                submitted_at=now,
                answer_due_at=due,
                access_token_sha256=token_sha256,
                received_at=received_at,
                identity_number=identity_number,
                recorded_by=recorded_by,
                access_token=sealed_token,
            )

        kept: dict[str, Any] = {"token": token, "subject_key": requester.name.key}
        if claim is not None:  # reuse what an earlier holder reserved; reserve before the append
            kept |= {
                "tracking_code": claim.tracking_code,
                "reserve": partial(state.idempotency.reserve, claim, requester.name.key),
            }
        submitted, token = await application.submit_request(
            runtime.store, runtime.db, state.documents, uploads, command, now, **kept
        )
        return {
            "tracking_code": submitted.tracking_code,
            "access_token": token,
            "answer_due_at": submitted.answer_due_at.astimezone(WIB).isoformat(),
            "status_url": f"/api/v1/requests/{submitted.tracking_code}",
        }, submitted.requester.name.key

    return await answer_once(state.idempotency, idempotency_key, print_, work)

"""The calls the portal makes, one method each, named after what the person does."""

from __future__ import annotations

from typing import Any

from .backend import ApiError, Backend, Files


def _form(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form fields, a name repeated for each of its values (httpx wants a mapping)."""
    form: dict[str, list[str]] = {}
    for name, value in fields:
        form.setdefault(name, []).append(value)
    return form


class Intake(Backend):
    async def submit_request(
        self, fields: list[tuple[str, str]], files: Files, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return await self.json(
            "POST", "/api/v1/requests", data=_form(fields), files=files, headers=headers or {}
        )

    async def track(self, code: str, token: str) -> dict[str, Any] | None:
        return await self.found("GET", f"/api/v1/requests/{code}", headers={"X-Access-Token": token})

    async def withdraw(self, code: str, token: str, reason: str | None) -> dict[str, Any] | None:
        return await self.found(
            "POST",
            f"/api/v1/requests/{code}/withdraw",
            headers={"X-Access-Token": token},
            json={"reason": reason or None},
        )

    async def resend_link(self, code: str) -> None:
        await _resend(self, f"/api/v1/requests/{code}/resend-link")

    async def survey(self, token: str) -> dict[str, Any] | None:
        """The satisfaction survey an invitation's token opens; None for an unknown token."""
        return await self.found("GET", "/api/v1/survey", headers={"X-Survey-Token": token})

    async def answer_survey(self, token: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Raises ``ApiError`` 409 when the survey was answered already, 404 for an unknown token."""
        return await self.json("POST", "/api/v1/survey", headers={"X-Survey-Token": token}, json=answer)


class Complaints(Backend):
    async def submit(
        self, fields: list[tuple[str, str]], files: Files, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """multipart with the attachments, or a urlencoded form without any."""
        return await self.json(
            "POST", "/api/v1/complaints", data=_form(fields), files=files or None, headers=headers or {}
        )

    async def track(self, code: str, token: str) -> dict[str, Any] | None:
        return await self.found("GET", f"/api/v1/complaints/{code}", headers={"X-Access-Token": token})

    async def dispute(self, code: str, token: str, reason: str) -> dict[str, Any] | None:
        return await self.found(
            "POST",
            f"/api/v1/complaints/{code}/dispute",
            headers={"X-Access-Token": token},
            json={"reason": reason},
        )

    async def resend_link(self, code: str) -> None:
        await _resend(self, f"/api/v1/complaints/{code}/resend-link")


class Scheduling(Backend):
    async def letter(self, document_id: str) -> tuple[bytes, str] | None:
        """An answer letter and its media type; None for an unknown one (404). A letter erased with
        the requester's personal data raises ``ApiError`` 410 (``personal_data_erased``)."""
        try:
            response = await self.call("GET", f"/api/v1/letters/{document_id}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        return response.content, response.headers.get("content-type", "application/pdf")


async def _resend(backend: Backend, path: str) -> None:
    """Unknown codes are answered like known ones: a 404 or 422 changes nothing for the person."""
    try:
        await backend.call("POST", path)
    except ApiError as exc:
        if exc.status not in (404, 422):
            raise

"""A planned delivery as the message its channel sends: an email with its attachments, or the
parts of an SMS.

The email's Message-ID is ``<delivery id@mail domain>`` on every attempt; an invitation's
iCalendar UID is ``<audience id>@<mail domain>`` for the audience's whole life. A complainant who
wrote by e-mail gets each e-mail as a reply in their thread: In-Reply-To their message,
References its thread, the subject ``Re: <their subject>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from serambi_contracts.notifier import RecipientKind
from serambi_kit.logging import get_logger

from ..domain.deliveries import Planned
from ..settings import NotifierSettings
from .ports import (
    SURVEY_TOKEN,
    THREAD,
    TOKEN,
    Attachment,
    Email,
    Invitation,
    InvitationFile,
    LetterMismatchError,
    LetterSource,
    LetterUnavailableError,
    Templates,
    TransientDeliveryError,
)

log = get_logger(__name__)
SUMMARY = {"id": "Audiensi Biro Perekonomian: {topic}", "en": "Audience, Bureau of Economy: {topic}"}
MESSAGE_ID = re.compile(r"^<[^<>\s]{1,900}>$")
NO_SUBJECT = "(tanpa subjek)"  # complaints' summary of an e-mail that had none


def in_thread(value: str | None) -> list[str]:
    """The Message-IDs of a complainant's e-mail thread (ComplaintReceived.email_thread, revealed:
    its References, then its own Message-ID last); anything that is not one is left out."""
    return [i for i in (value or "").split() if MESSAGE_ID.match(i)]


def reply_subject(original: str | None) -> str | None:
    """``Re: <the complainant's subject>``: mail programs that group by subject too (Gmail,
    Outlook) keep the reply in the thread. None when the message had no subject."""
    original = " ".join((original or "").split())
    if not original or original == NO_SUBJECT:
        return None
    return original if original[:3].lower() == "re:" else f"Re: {original}"


@dataclass(frozen=True, slots=True)
class Sms:
    to: str
    parts: tuple[str, ...]


class Composer:
    """Its templates, calendar files and letters are the adapters ``main.py`` gives it."""

    def __init__(
        self,
        settings: NotifierSettings,
        renderer: Templates,
        invitations: InvitationFile,
        letters: LetterSource | None = None,
    ) -> None:
        self.settings = settings
        self.renderer = renderer
        self.invitations = invitations
        self.letters = letters

    def message_id(self, delivery_id: str) -> str:
        return f"<{delivery_id}@{self.settings.mail_domain}>"

    def context(self, planned: Planned) -> dict[str, Any]:
        """The template context with the attachment flags decided."""
        context = dict(planned.context)
        context["links"] = {"status": self._status_link(planned), "survey": self._survey_link(planned)}
        context["invitation"] = self._calendar_method(planned) is not None
        letter = getattr(context["event"], "answer_letter", None)
        context["letter"] = {
            "attached": False,
            "url": self._letter_url(letter.document_id)
            if letter and "answer_letter" in planned.attach
            else None,
        }
        return context

    async def email(self, planned: Planned, now: datetime, attempt: int = 1) -> Email:
        """The email; ``attempt`` decides whether a letter that cannot be fetched is still
        waited for (a transient failure) or replaced by its link."""
        assert planned.address is not None
        context = self.context(planned)
        attachments = []
        letter = await self._letter(planned, attempt)
        if letter is not None:
            attachments.append(letter)
            context["letter"]["attached"] = True
        content = self.renderer.email(planned.language, planned.notice, context)
        method = self._calendar_method(planned)
        if method is not None:
            attachments.append(self._calendar(planned, context, method, now))
        subject, thread = content.subject, in_thread(planned.context.get(THREAD))
        if thread:  # the complainant wrote by e-mail: a reply in their thread
            subject = reply_subject(planned.context["case"].get("summary")) or subject
        return Email(
            to=planned.address,
            subject=subject,
            text=content.text,
            html=content.html,
            message_id=self.message_id(planned.delivery_id),
            date=now,
            attachments=tuple(attachments),
            headers=(
                ("X-Serambi-Delivery", planned.delivery_id),
                ("X-Serambi-Notice", planned.notice),
                *((("X-Serambi-Case", planned.case_id),) if planned.case_id else ()),
                *((("In-Reply-To", thread[-1]), ("References", " ".join(thread))) if thread else ()),
            ),
        )

    def sms(self, planned: Planned) -> Sms:
        assert planned.address is not None
        parts = self.renderer.sms(
            planned.language, planned.notice, self.context(planned), self.settings.sms_max_parts
        )
        return Sms(planned.address, tuple(parts))

    # -- attachments ---------------------------------------------------------------------------
    def _calendar_method(self, planned: Planned) -> str | None:
        context = planned.context
        if not context.get("slot") or not context.get("audience_id"):
            return None
        if "invitation" in planned.attach:
            return "REQUEST"
        if "cancellation" in planned.attach and context.get("was_scheduled"):
            return "CANCEL"
        return None

    def _calendar(self, planned: Planned, context: dict[str, Any], method: str, now: datetime) -> Attachment:
        slot, case = context["slot"], context["case"]
        topic = case.get("topic") or case.get("tracking_code") or ""
        invitation = Invitation(
            audience_id=context["audience_id"],
            sequence=context.get("sequence", 0),
            starts_at=slot["starts_at"],
            ends_at=slot["ends_at"],
            summary=SUMMARY[planned.language].format(topic=topic),
            location=", ".join(p for p in (slot.get("room"), slot.get("location")) if p),
            description=f"{case.get('tracking_code')}: {topic}",
            organizer=self.settings.mail_from,
            attendee=planned.address,
            attendee_name=planned.context["recipient"].get("name"),
            stamp=now,
            method="CANCEL" if method == "CANCEL" else "REQUEST",
        )
        return Attachment(
            filename="undangan.ics" if method == "REQUEST" else "pembatalan.ics",
            content=self.invitations(invitation, self.settings.mail_domain),
            maintype="text",
            subtype="calendar",
            params={"method": method, "charset": "UTF-8"},
        )

    async def _letter(self, planned: Planned, attempt: int) -> Attachment | None:
        ref = getattr(planned.context["event"], "answer_letter", None)
        if ref is None or "answer_letter" not in planned.attach or self.letters is None:
            return None
        try:
            content = await self.letters.fetch(ref)
        except LetterUnavailableError as exc:
            if attempt < self.settings.letter_fetch_attempts:
                raise TransientDeliveryError(str(exc)) from exc
            log.warning("letter.link_only", delivery_id=planned.delivery_id, reason=str(exc))
            return None
        except LetterMismatchError as exc:
            log.error("letter.mismatch", delivery_id=planned.delivery_id, reason=str(exc))
            return None
        maintype, _, subtype = ref.media_type.partition("/")
        return Attachment(
            f"surat-jawaban-{planned.case_id or ref.document_id}.pdf",
            content,
            maintype or "application",
            subtype or "pdf",
        )

    def _letter_url(self, document_id: str) -> str | None:
        base = self.settings.letters_base_url
        return f"{base.rstrip('/')}/{document_id}" if base else None

    def _survey_link(self, planned: Planned) -> str | None:
        """The survey page of an invitation (SurveyInvited), with its token; None otherwise."""
        token = planned.context.get(SURVEY_TOKEN)
        if planned.recipient_kind is not RecipientKind.CITIZEN or not token or not self.settings.survey_url:
            return None
        return self.settings.survey_url.format(token=token)

    def _status_link(self, planned: Planned) -> str | None:
        """The citizen's tracking page, with their access token in the fragment (``#t=…``:
        never sent to a server, so never in access logs or a Referer) when it is known."""
        if planned.recipient_kind is not RecipientKind.CITIZEN or not planned.case_id:
            return None
        template = (
            self.settings.request_status_url
            if planned.recipient_role == "requester"
            else self.settings.complaint_status_url
        )
        if not template:
            return None
        link = template.format(tracking_code=planned.case_id)
        token = planned.context.get(TOKEN)
        return f"{link}#t={token}" if token and "#" not in link else link

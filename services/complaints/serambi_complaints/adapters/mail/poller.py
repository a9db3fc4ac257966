"""The e-mail channel's round: the mailbox polled, each message handed to the intake.

The service runs it through the kit's leased rounds (``complaints-email-poll``, every
``SERAMBI_EMAIL_POLL_SECONDS``), so one replica polls per round; an unreachable server fails the
round, which the next one retries (the messages stay in the inbox).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from serambi_kit.documents import DocumentStore
from serambi_kit.runtime import Runtime

from ...domain import Rules
from ...settings import ComplaintsSettings
from .imap import ImapMailbox
from .intake import MailIntake

JOB = "complaints-email-poll"


@dataclass(frozen=True, slots=True)
class MailPoller:
    mailbox: ImapMailbox
    intake: MailIntake

    async def poll(self) -> int:
        """One round; returns how many messages were moved out of the inbox."""
        folders = (self.intake.processed, self.intake.rejected)
        return await self.mailbox.poll(self.intake.handle, folders, self.intake.too_large)


def from_settings(
    settings: ComplaintsSettings, runtime: Runtime, rules: Rules, documents: Callable[[], DocumentStore]
) -> MailPoller | None:
    if settings.email_mode != "imap":
        return None
    assert settings.email_imap_host and settings.email_imap_user and settings.email_imap_password
    mailbox = ImapMailbox(
        settings.email_imap_host,
        settings.email_imap_port,
        settings.email_imap_user,
        settings.email_imap_password.get_secret_value(),
        settings.email_imap_security,
        settings.email_imap_ca_file,
        settings.email_timeout_seconds,
        settings.email_inbox,
        retention_days=settings.email_retention_days,
        max_message_bytes=settings.email_max_message_bytes,
    )
    intake = MailIntake(
        lambda: runtime.store,
        lambda: runtime.db,
        lambda: runtime.vault,
        rules,
        documents,
        max_attachment_bytes=settings.max_attachment_bytes,
        processed=settings.email_processed_folder,
        rejected=settings.email_rejected_folder,
    )
    return MailPoller(mailbox, intake)

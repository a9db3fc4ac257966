"""Complaints' composition root: settings → rules → runtime → adapters → consumers → HTTP app.

``ComplaintsService`` is the container it builds: the rules, the runtime, the adapters
(LAPOR!, WhatsApp, the mailbox) and the use cases wired to them, and the start-up and periodic
rounds. The routes reach what they need through ``api/deps.py``; the consumers are registered
by ``subscribers.register``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from faststream import FastStream
from serambi_calendar import live_calendar_from_env, policy_from_env
from serambi_kit import asyncapi
from serambi_kit.calendars import STREAM, CalendarRevisions
from serambi_kit.documents import DocumentStore
from serambi_kit.eventstore import read_stream
from serambi_kit.http import create_service_app
from serambi_kit.idempotency import IdempotencyKeys
from serambi_kit.logging import get_logger
from serambi_kit.messaging import caught_up
from serambi_kit.periodic import Rounds, run_guarded, stop_before_runtime
from serambi_kit.runtime import Runtime

from . import subscribers
from .adapters import lapor, lapor_import, lapor_status, queries, whatsapp, whatsapp_erasure, whatsapp_replies
from .adapters.mail import poller as mail_poller
from .adapters.queries import Reader
from .adapters.whatsapp_cloud import CloudWhatsApp
from .api import officer_router, public_router
from .api.common import complaint_error
from .api.whatsapp import router as whatsapp_router
from .application import commands, ports
from .application.sla_timers import ClockKeeper, revise_if_needed
from .domain import ComplaintError, Rules
from .settings import ComplaintsSettings

log = get_logger(__name__)
#: how long a revision waits for the read model to hold every complaint recorded before it
READ_MODEL_WAIT_SECONDS = 30.0


def rules_from_env(settings: ComplaintsSettings) -> Rules:
    """The calendar (this year and next compiled now: a broken calendar stops start-up; the
    revisions made since the override file are read once the service runs) and the SLA policy
    from the environment."""
    year = datetime.now(UTC).year
    return Rules(
        live_calendar_from_env(years=[year, year + 1]), policy_from_env(), settings.reopen_window_days
    )


def gateway_from_settings(settings: ComplaintsSettings) -> ports.LaporGateway | None:
    if settings.lapor_mode == "http":
        assert settings.lapor_base_url and settings.lapor_token
        return lapor.HttpLaporGateway(
            settings.lapor_base_url, settings.lapor_token.get_secret_value(), settings.lapor_timeout_seconds
        )
    return None


def whatsapp_from_settings(settings: ComplaintsSettings) -> ports.WhatsAppSender | None:
    if not settings.whatsapp_enabled:
        return None
    assert settings.whatsapp_phone_number_id and settings.whatsapp_access_token
    return CloudWhatsApp(
        settings.whatsapp_api_base_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token.get_secret_value(),
        settings.whatsapp_timeout_seconds,
    )


class ComplaintsService:
    def __init__(
        self,
        settings: ComplaintsSettings,
        *,
        rules: Rules | None = None,
        lapor_gateway: ports.LaporGateway | None = None,
        whatsapp_sender: ports.WhatsAppSender | None = None,
    ) -> None:
        self.settings = settings
        self.rules = rules or rules_from_env(settings)
        self.runtime = Runtime(settings)
        self.keeper = ClockKeeper(self.runtime, self.rules)
        self.calendar_revisions = CalendarRevisions(  # scheduling records them: read, never written
            self.rules.calendar,
            lambda subjects, first: read_stream(self.runtime.nc, STREAM, subjects, from_sequence=first),
        )
        self.lapor = lapor_gateway or gateway_from_settings(settings)
        self.lapor_pusher = (
            None
            if self.lapor is None
            else lapor_status.StatusPusher(
                self.lapor, lambda: self.runtime.store, lambda: self.runtime.db, lambda: self.runtime.vault
            )
        )
        self.whatsapp = None
        if settings.whatsapp_enabled:
            self.whatsapp = whatsapp_sender or whatsapp_from_settings(settings)
        self.whatsapp_intake = whatsapp.WhatsAppIntake(
            lambda: self.runtime.store,
            lambda: self.runtime.db,
            lambda: self.runtime.vault,
            self.rules,
            group_window=timedelta(minutes=settings.whatsapp_group_minutes),
            media=self.whatsapp if hasattr(self.whatsapp, "fetch_media") else None,
            documents=lambda: self.attachments,
            max_attachment_bytes=settings.max_attachment_bytes,
        )
        self.whatsapp_replies = (
            None
            if self.whatsapp is None
            else whatsapp_replies.WhatsAppReplies(
                self.whatsapp,
                settings,
                lambda: self.runtime.store,
                lambda: self.runtime.db,
                lambda: self.runtime.vault,
            )
        )
        # erased complainants' conversations, messages and replies forgotten (with the channel off too)
        self.whatsapp_erasures = whatsapp_erasure.WhatsAppErasures(
            lambda: self.runtime.db, lambda: self.runtime.vault
        )
        self.rounds = Rounds(lambda: self.runtime.db)  # the clock sweeps, one replica per round
        self._attachments: DocumentStore | None = None
        # the e-mail channel, when configured
        self.mail = mail_poller.from_settings(settings, self.runtime, self.rules, lambda: self.attachments)
        subscribers.register(self.runtime, settings, self.keeper, self.lapor_pusher, self.whatsapp_replies)
        self.runtime.before_consuming.append(self.create_indexes)

    @property
    def attachments(self) -> DocumentStore:
        """The complaints' attachments (GridFS bucket ``attachments``), once started."""
        if self._attachments is None:
            self._attachments = DocumentStore(self.runtime.db, "attachments", vault=self.runtime.vault)
        return self._attachments

    def reader(self) -> Reader:
        return Reader(self.runtime.db, self.runtime.vault, self.rules)

    @property
    def idempotency(self) -> IdempotencyKeys:
        """The Idempotency-Keys of the complaint submissions, once started."""
        return IdempotencyKeys.from_settings(self.runtime.db, self.runtime.vault, self.settings)

    async def create_indexes(self) -> None:
        """Every collection's indexes, before the consumers start (``Runtime.before_consuming``)."""
        await queries.create_indexes(self.runtime.db)
        await self.keeper.create_indexes()
        await self.idempotency.ensure_indexes()
        await self.whatsapp_intake.create_indexes()
        await self.whatsapp_erasures.create_indexes()
        if self.whatsapp_replies is not None:
            await self.whatsapp_replies.create_indexes()
        await self.attachments.create_indexes()

    async def started(self) -> None:
        """After the runtime started (the indexes made, the consumers running): the message ids'
        migration, then in the background the calendar revision, the SLA sweep, the re-arm of
        missing timers, and the periodic tasks."""
        await whatsapp.hash_message_ids(self.runtime.db)  # ids recorded in clear before (they hold numbers)
        if self.whatsapp_replies is not None:  # failures from before they were reported
            await self.whatsapp_replies.report_legacy_failures(datetime.now(UTC))
        self.rounds.once("complaints-start-up", self._after_start)
        every = self.settings
        if self.lapor is not None and every.lapor_poll_seconds > 0:
            self.rounds.start("lapor-poll", self.import_from_lapor, every=every.lapor_poll_seconds)
        if self.lapor_pusher is not None:
            self.rounds.start("lapor-push", self.lapor_pusher.push_pending, every=every.lapor_push_seconds)
        if self.whatsapp_replies is not None:
            self.rounds.start(
                "whatsapp-replies", self.whatsapp_replies.send_pending, every=every.whatsapp_push_seconds
            )
        self.rounds.start(
            "whatsapp-erasures", self.whatsapp_erasures.forget_erased, every=every.whatsapp_erasure_seconds
        )

    async def _after_start(self) -> None:
        await run_guarded("WhatsApp erasure backfill", self.whatsapp_erasures.backfill)
        await run_guarded("attachment sweep", self.sweep_attachments)
        await run_guarded("calendar revisions", self.calendar_revisions.refresh)
        await run_guarded("calendar revision", self.revise_if_needed)
        await run_guarded("SLA sweep", self.keeper.sweep)
        if self.settings.rearm_on_start:
            await run_guarded("re-arm", self.keeper.rearm_missing)
        keeper, settings = self.keeper, self.settings
        self.rounds.start("complaints-sla-sweep", keeper.sweep, every=settings.sla_sweep_seconds)
        self.rounds.start("complaints-timer-rearm", keeper.rearm_missing, every=settings.timer_rearm_seconds)
        self.rounds.start(
            "complaints-calendar-refresh",
            self.refresh_calendar,
            every=settings.calendar_refresh_seconds,
            lease=False,
        )  # every replica
        if self.mail is not None:
            self.rounds.start(mail_poller.JOB, self.mail.poll, every=settings.email_poll_seconds)

    async def revise_if_needed(self) -> int:
        """If the calendar revision or the clock durations changed since the last start, record
        the open deadlines they move (ComplaintDeadlineMoved) — the timers follow."""
        return await revise_if_needed(
            self.runtime.store, self.runtime.db, self.rules, before=self.read_model_caught_up
        )

    async def refresh_calendar(self) -> int:
        """Read new calendar revisions (scheduling records them); when there were any, move the
        open deadlines they change — forced: this replica may have counted with the old calendar
        meanwhile. Returns how many moved."""
        if not await self.calendar_revisions.refresh():
            return 0
        return await revise_if_needed(
            self.runtime.store, self.runtime.db, self.rules, force=True, before=self.read_model_caught_up
        )

    async def read_model_caught_up(self) -> None:
        """Wait until the read model holds every complaint event stored so far: a revision moves
        the open complaints it lists, and one recorded with the old calendar a moment before the
        revision was read (not projected yet) must be among them. After
        ``READ_MODEL_WAIT_SECONDS`` (a projection far behind) the revision goes on with what the
        read model holds, and says so."""
        tracking = subscribers.TRACKING_EVENTS
        if not await caught_up(self.runtime.nc.jetstream(), tracking, READ_MODEL_WAIT_SECONDS):
            log.warning(
                "calendar.read_model_behind", consumer=tracking.durable, waited=READ_MODEL_WAIT_SECONDS
            )

    async def sweep_attachments(self) -> int:
        older_than = timedelta(minutes=self.settings.pending_attachment_minutes)
        return await commands.sweep_attachments(
            self.attachments, self.runtime.db, self.runtime.store, older_than
        )

    async def import_from_lapor(self) -> list[str]:
        assert self.lapor is not None
        runtime = self.runtime
        return await lapor_import.import_new(
            self.lapor,
            runtime.store,
            runtime.db,
            runtime.vault,
            self.rules,
            datetime.now(UTC).replace(microsecond=0),
            self.attachments,
            self.settings.max_attachment_bytes,
        )

    async def stopping(self) -> None:
        await self.rounds.stop()
        for adapter in (self.lapor, self.whatsapp):
            close = getattr(adapter, "close", None)
            if close is not None:
                await close()


TITLE = "Serambi complaints"


def build_service(settings: ComplaintsSettings | None = None, **options) -> ComplaintsService:
    return ComplaintsService(settings or ComplaintsSettings(), **options)


def build_runtime(settings: ComplaintsSettings | None = None) -> Runtime:
    return build_service(settings).runtime


def create_app(
    settings: ComplaintsSettings | None = None, *, service: ComplaintsService | None = None
) -> FastAPI:
    service = service or build_service(settings)
    app = create_service_app(
        service.runtime,
        title=TITLE,
        routers=[public_router, officer_router, whatsapp_router],
        on_started=service.started,
    )
    app.state.complaints = service
    app.add_exception_handler(ComplaintError, complaint_error)
    stop_before_runtime(app, service.stopping)  # its rounds stop before the runtime does
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), TITLE)

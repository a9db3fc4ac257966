"""Scheduling's composition root: settings → runtime → consumers → HTTP app.

Start-up: the read models' indexes before the consumers start (``Runtime.before_consuming``);
then, after the runtime started, build the use-case context, seed the default room and
host (development), read the working calendar's revisions, revise the open answer deadlines if
the calendar or the durations changed since the last start, run the SLA sweep, arm the
requester's reminders the server does not hold (``application/reminders.py``) and the hosts'
day-list timer (``application/daylist.py``), free orphaned
bookings and seal answer letters stored in clear before sealing (``letters.seal_stored_letters``),
then let the consumers work. The sweep and the release of orphans then run every
``SERAMBI_SLA_SWEEP_SECONDS``, one replica per round (``serambi_kit.periodic``); every replica
reads new calendar revisions every ``SERAMBI_CALENDAR_REFRESH_SECONDS`` and moves the deadlines
and reminders they change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

from fastapi import FastAPI
from faststream import FastStream
from serambi_calendar import fingerprint, live_calendar_from_env, policy_from_env, utc_now
from serambi_kit import asyncapi
from serambi_kit.calendars import CalendarRevisions
from serambi_kit.eventstore import RecordedEvent, read_stream
from serambi_kit.http import create_service_app
from serambi_kit.logging import get_logger
from serambi_kit.periodic import Rounds, stop_before_runtime
from serambi_kit.revisions import revise_when_changed
from serambi_kit.runtime import Runtime
from serambi_kit.timers import Timers

from . import subscribers
from .adapters import queries
from .adapters.letters import LetterStore, render, seal_stored_letters
from .api import audiences, common, letters, reports, resources, working_days
from .application import commands, daylist, reconcile, reminders, sla
from .application import resources as resource_cases
from .application.context import Catalog, Context, rules_from
from .domain.time import wib_day
from .settings import SchedulingSettings

log = get_logger(__name__)


class Scheduling:
    """The service: its runtime, and the context built once the runtime is connected."""

    def __init__(self, settings: SchedulingSettings | None = None) -> None:
        self.settings = settings or SchedulingSettings()
        self.calendar = live_calendar_from_env()  # the override file, then the revisions
        self.policy = policy_from_env()
        self.runtime = Runtime(self.settings)
        self.revisions = CalendarRevisions(self.calendar, self._fetch)
        self.ready = asyncio.Event()
        self.context: Context | None = None
        self.rounds = Rounds(lambda: self.runtime.db)
        subscribers.register(self.runtime, lambda: self.context, self.ready, self.settings.request_workers)
        self.runtime.before_consuming.append(lambda: queries.ensure_indexes(self.runtime.db))

    def _fetch(self, subject_filter: str, from_sequence: int) -> AsyncIterator[RecordedEvent]:
        return read_stream(self.runtime.nc, "SCHEDULING", subject_filter, from_sequence=from_sequence)

    def build_context(self) -> Context:
        runtime, settings = self.runtime, self.settings
        db = runtime.db
        return Context(
            store=runtime.store,
            catalog=Catalog(self._fetch),
            bookings=queries.MongoBookingSource(db),
            letters=LetterStore(db, settings.letter_secret.get_secret_value(), runtime.vault),
            render_letter=render,
            timers=Timers(runtime.nc.jetstream(), "scheduling", runtime.source),
            open_audiences=lambda: queries.open_audience_ids(db),
            upcoming_audiences=lambda: queries.upcoming_audience_ids(db, utc_now()),
            calendar=self.calendar,
            policy=self.policy,
            rules=rules_from(settings),
            mode=settings.scheduling_mode,
            signatory=settings.letter_signatory,
            vault=runtime.vault,
        )

    async def on_started(self) -> None:
        ctx = self.build_context()
        if self.settings.seeds:
            await resource_cases.seed(ctx, self.settings)
        await self.revisions.refresh()
        await self.revise_if_needed(ctx)
        await sla.sweep(ctx)
        await reminders.sweep(ctx)
        await daylist.arm(ctx)
        await release_orphans(ctx)
        await seal_stored_letters(ctx.letters, lambda audience: commands.requester_key_of(ctx, audience))
        self.context = ctx
        self.ready.set()
        self.rounds.start("scheduling-sweep", self.sweep, every=self.settings.sla_sweep_seconds)
        self.rounds.start(
            "scheduling-calendar-refresh",
            self.refresh_calendar,
            every=self.settings.calendar_refresh_seconds,
            lease=False,
        )  # every replica
        log.info("scheduling.ready", mode=ctx.mode)

    async def revise_if_needed(self, ctx: Context, *, force: bool = False) -> int:
        """After a calendar revision (or changed durations): AudienceDeadlineMoved for every open
        answer deadline it moves, timers moved with it. Returns how many moved."""
        return await revise_when_changed(
            self.runtime.db, fingerprint(self.calendar, self.policy), lambda: sla.revise(ctx), force=force
        )

    async def refresh_calendar(self) -> int:
        """Read new calendar revisions; when there were any, move the open answer deadlines they
        change (forced: this replica may have answered with the old calendar meanwhile).
        Returns how many moved."""
        if self.context is None or not await self.revisions.refresh():
            return 0
        moved = await self.revise_if_needed(self.context, force=True)
        await reminders.sweep(self.context)  # a reminder the revision moves (its day before)
        await daylist.arm(self.context)  # the next working morning may have moved
        return moved

    async def sweep(self) -> int:
        """One round: overdue clocks, timers the server lost, bookings no audience holds.
        Returns how many bookings it freed."""
        assert self.context is not None
        await sla.sweep(self.context, missing_only=True)
        await reminders.sweep(self.context)
        await daylist.arm(self.context)
        return await release_orphans(self.context)


async def release_orphans(ctx: Context) -> int:
    today = wib_day(utc_now())
    return await reconcile.release_orphans(ctx, today - timedelta(days=1), today + timedelta(days=400))


def build_runtime(settings: SchedulingSettings | None = None) -> Runtime:
    return Scheduling(settings).runtime


def create_app(settings: SchedulingSettings | None = None) -> FastAPI:
    service = Scheduling(settings)

    async def on_started() -> None:
        await service.on_started()
        app.state.scheduling = service.context
        app.state.scheduling_service = service  # the calendar revisions (api/working_days.py)

    app = create_service_app(
        service.runtime,
        title="Serambi scheduling",
        routers=[audiences.router, resources.router, letters.router, reports.router, working_days.router],
        on_started=on_started,
    )
    common.install_error_handlers(app)
    stop_before_runtime(app, service.rounds.stop)
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi scheduling")

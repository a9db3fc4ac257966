"""Notifier's composition root: settings → runtime → channels, planner, dispatcher → HTTP app."""

from __future__ import annotations

from fastapi import FastAPI
from faststream import FastStream
from serambi_kit import asyncapi
from serambi_kit.http import create_service_app
from serambi_kit.runtime import Runtime

from . import api, subscribers
from .adapters.cases import case_source
from .adapters.channels.email import SmtpChannel
from .adapters.channels.sms import JsonProvider, ZenzivaProvider
from .adapters.ics import invitation_ics
from .adapters.ledger import Ledger
from .adapters.letter_fetch import LetterFetcher
from .adapters.rendering import TEMPLATES, Renderer
from .application.compose import Composer
from .application.dispatch import Dispatcher
from .application.planning import Planner
from .application.ports import SmsProvider
from .domain import subscriptions
from .settings import NotifierSettings


def sms_provider(settings: NotifierSettings) -> SmsProvider:
    if settings.sms_provider == "zenziva":
        return ZenzivaProvider(
            settings.sms_url,
            settings.sms_userkey,
            settings.sms_passkey.get_secret_value() if settings.sms_passkey else None,
            settings.sms_timeout_seconds,
        )
    return JsonProvider(
        settings.sms_url,
        settings.sms_token.get_secret_value() if settings.sms_token else None,
        settings.sms_sender,
        settings.sms_timeout_seconds,
    )


def smtp_channel(settings: NotifierSettings) -> SmtpChannel:
    return SmtpChannel(
        host=settings.smtp_host,
        port=settings.smtp_port,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        sender=settings.mail_from,
        timeout=settings.smtp_timeout_seconds,
        connections=settings.smtp_connections,
        validate_certs=settings.smtp_validate_certs,
        cert_bundle=settings.smtp_cert_bundle,
        send_timeout=settings.smtp_send_timeout_seconds,
    )


class NotifierRuntime(Runtime):
    """The kit's runtime plus the dispatch loop and the channels' connections."""

    dispatcher: Dispatcher
    ledger: Ledger

    async def start(self) -> None:
        await super().start()
        self.dispatcher.start()

    async def stop(self) -> None:
        await self.stop_consuming()  # no new events, the planned ones recorded; then the sends
        await self.dispatcher.stop()
        await self.ledger.flush()  # the outcomes of the last sends
        await self.dispatcher.email.close()
        await self.dispatcher.sms.close()
        if self.dispatcher.composer.letters is not None:
            await self.dispatcher.composer.letters.close()
        await super().stop()


def build_runtime(settings: NotifierSettings | None = None) -> NotifierRuntime:
    settings = settings or NotifierSettings()
    runtime = NotifierRuntime(settings)
    runtime.ledger = Ledger(lambda: runtime.db)
    runtime.before_consuming.append(runtime.ledger.ensure_indexes)
    table = subscriptions.by_event(subscriptions.load(settings.subscriptions_file, TEMPLATES))
    planner = Planner(settings, table, lambda: runtime.vault, case_source(lambda: runtime.db))
    letters = (
        LetterFetcher(settings.letters_base_url, settings.sms_timeout_seconds)
        if settings.attach_letters and settings.letters_base_url
        else None
    )
    runtime.dispatcher = Dispatcher(
        settings,
        planner,
        Composer(settings, Renderer(), invitation_ics, letters),
        runtime.ledger,
        smtp_channel(settings),
        sms_provider(settings),
        lambda: runtime.store,
        lambda: runtime.nc,
    )
    subscribers.register(runtime, runtime.dispatcher, settings.notify_workers)
    return runtime


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    runtime = build_runtime(settings)
    app = create_service_app(runtime, title="Serambi notifier", routers=[api.router])
    app.state.ledger = runtime.ledger
    return app


def asyncapi_app() -> FastStream:
    return asyncapi.application(build_runtime(), "Serambi notifier")

"""The subscriptions: which notices each event causes, to whom, through which channels.

They are configuration — ``subscriptions.toml`` in this package by default, or the file named by
``SERAMBI_SUBSCRIPTIONS_FILE`` — checked at start-up: events must be in the catalogue, recipients
and attachments known, ``when`` to name fields of the event, and every channel's templates
present in every language.
"""

from __future__ import annotations

import tomllib
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from serambi_contracts import EVENTS, Event
from serambi_contracts.notifier import Channel

DEFAULT_FILE = Path(__file__).parent.parent / "subscriptions.toml"
CITIZENS = ("requester", "complainant")
RECIPIENTS = (*CITIZENS, "responsible", "escalation", "assignee", "host")
ATTACHMENTS = ("invitation", "cancellation", "answer_letter")
LANGUAGES = ("id", "en")
EVENT_NAMES = frozenset(event.name() for event in EVENTS)
EVENT_TYPES = {event.name(): event for event in EVENTS}


class SubscriptionError(ValueError):
    """The subscriptions configuration is not valid."""


@dataclass(frozen=True, slots=True)
class Subscription:
    event: str
    notice: str
    recipients: tuple[str, ...]
    channels: tuple[Channel, ...]
    attach: tuple[str, ...] = ()
    #: only events whose fields have these values (e.g. ComplaintReplyFailed's ``reply``)
    when: tuple[tuple[str, str], ...] = ()

    def applies_to(self, event: Event) -> bool:
        for name, value in self.when:
            actual = getattr(event, name, None)
            if str(getattr(actual, "value", actual)) != value:  # an enum by its value
                return False
        return True


def template_files(notice: str, channel: Channel) -> tuple[str, ...]:
    if channel is Channel.EMAIL:
        return (f"{notice}/subject.txt", f"{notice}/body.txt", f"{notice}/body.html")
    return (f"{notice}/sms.txt",)


def _parse(entry: dict[str, Any], number: int) -> Subscription:
    where = f"notice #{number}"
    unknown = set(entry) - {"event", "notice", "recipients", "channels", "attach", "when"}
    if unknown:
        raise SubscriptionError(f"{where}: unknown keys {sorted(unknown)}")
    try:
        event, notice = str(entry["event"]), str(entry["notice"])
        recipients = tuple(str(r) for r in entry["recipients"])
        channels = tuple(Channel(c) for c in entry["channels"])
    except KeyError as exc:
        raise SubscriptionError(f"{where}: {exc.args[0]!r} is required") from None
    except ValueError as exc:
        raise SubscriptionError(f"{where}: {exc}") from None
    attach = tuple(str(a) for a in entry.get("attach", ()))
    if event not in EVENT_NAMES:
        raise SubscriptionError(f"{where}: {event!r} is not an event in the catalogue")
    for recipient in recipients:
        if recipient not in RECIPIENTS and not recipient.startswith("role:"):
            raise SubscriptionError(f"{where}: unknown recipient {recipient!r}")
    for attachment in attach:
        if attachment not in ATTACHMENTS:
            raise SubscriptionError(f"{where}: unknown attachment {attachment!r}")
    if not recipients or not channels:
        raise SubscriptionError(f"{where}: give at least one recipient and one channel")
    when = entry.get("when", {})
    if not isinstance(when, dict):
        raise SubscriptionError(f"{where}: 'when' is a table of field = value")
    for name in when:
        if name not in EVENT_TYPES[event].model_fields:
            raise SubscriptionError(f"{where}: 'when' names {name!r}, not a field of {event}")
        allowed = _enum_values(EVENT_TYPES[event].model_fields[name].annotation)
        if allowed and str(when[name]) not in allowed:
            raise SubscriptionError(
                f"{where}: 'when' {name} = {str(when[name])[:40]!r} is none of {', '.join(sorted(allowed))}"
            )
    conditions = tuple(sorted((str(name), str(value)) for name, value in when.items()))
    return Subscription(event, notice, recipients, channels, attach, conditions)


def _enum_values(annotation: object) -> set[str]:
    """The values a field of an enumeration (or an optional one) can take; empty for others."""
    kinds = (annotation, *typing.get_args(annotation))
    return {
        str(member.value)
        for kind in kinds
        if isinstance(kind, type) and issubclass(kind, Enum)
        for member in kind
    }


def parse(text: str, templates: Path | None = None) -> tuple[Subscription, ...]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SubscriptionError(f"not valid TOML: {exc}") from None
    subscriptions = tuple(_parse(entry, n) for n, entry in enumerate(data.get("notice", []), 1))
    if templates is not None:
        check_templates(subscriptions, templates)
    return subscriptions


def check_templates(subscriptions: Iterable[Subscription], templates: Path) -> None:
    missing = [
        f"{language}/{name}"
        for subscription in subscriptions
        for channel in subscription.channels
        for name in template_files(subscription.notice, channel)
        for language in LANGUAGES
        if not (templates / language / name).is_file()
    ]
    if missing:
        raise SubscriptionError(f"missing templates: {', '.join(sorted(set(missing)))}")


def load(path: Path | None, templates: Path) -> tuple[Subscription, ...]:
    return parse((path or DEFAULT_FILE).read_text(encoding="utf-8"), templates)


def by_event(subscriptions: Iterable[Subscription]) -> dict[str, tuple[Subscription, ...]]:
    table: dict[str, list[Subscription]] = {}
    for subscription in subscriptions:
        table.setdefault(subscription.event, []).append(subscription)
    return {event: tuple(entries) for event, entries in table.items()}

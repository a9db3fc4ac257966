"""Which deliveries an event causes: the subscriptions, resolved to people, addresses and channels.

Planning is deterministic for a given event, configuration and read model, so a delivery can be
re-planned from its cause (after a restart, for a retry) and finds the same delivery id:
``uuid5(cause event id, channel, keyed hash of the address)``. Two subscriptions that reach the
same address through the same channel make one delivery.

Clear addresses exist only in memory, in a :class:`Planned`. The ledger keeps an officer's masked
and hashed, a citizen's only as their data key and the mask sealed under it (``ledger.py``); the
keyed hash still derives the delivery id (a retry re-planned finds the same one).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from serambi_contracts import Event
from serambi_contracts.complaints import ComplaintAnswered, ComplaintChannel, ComplaintReceived
from serambi_contracts.notifier import Channel, RecipientKind
from serambi_contracts.scheduling import HostDayListDue
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit.eventstore import RecordedEvent, deterministic_id
from serambi_kit.logging import get_logger
from serambi_kit.messaging import OutOfOrderError
from serambi_kit.phones import PhoneNumberError, to_e164
from serambi_kit.pii import Vault, mask_email, mask_phone

from ..domain.deliveries import ERASED, Person, Planned
from ..domain.quiet_hours import QuietHours
from ..domain.subscriptions import Subscription
from ..settings import NotifierSettings
from .ports import CaseInfo, CaseSource

log = get_logger(__name__)

OFFICE = {
    "id": ("Biro Perekonomian Sekretariat Daerah Provinsi Kalimantan Barat", "Biro Perekonomian Kalbar"),
    "en": ("Bureau of Economy, Regional Secretariat of West Kalimantan Province", "Biro Perekonomian Kalbar"),
}
#: What the complaints service's WhatsApp channel sends a WhatsApp complainant itself (the
#: receipt with the tracking link, the answer): not sent again by SMS — the e-mail, if they gave
#: an address, still goes. If WhatsApp fails to deliver it, ComplaintReplyFailed brings the SMS.
SENT_ON_WHATSAPP = (ComplaintReceived, ComplaintAnswered)


class NotProjectedYetError(OutOfOrderError):
    """The case this event needs is not in the read model yet: retried later, paced like an
    event whose predecessor is not applied yet (that may be held by a consumer that died)."""


class Planner:
    def __init__(
        self,
        settings: NotifierSettings,
        table: dict[str, tuple[Subscription, ...]],
        vault: Any,
        cases: CaseSource,
    ) -> None:
        self.settings = settings
        self.table = table
        self._vault = vault
        self.cases = cases
        self.quiet = QuietHours.parse(settings.quiet_hours_start, settings.quiet_hours_end)

    @property
    def vault(self) -> Vault:
        return self._vault() if callable(self._vault) else self._vault

    def subscribed(self, event: Event) -> bool:
        return type(event).name() in self.table

    async def plan(self, recorded: RecordedEvent, now: datetime) -> list[Planned]:
        subscriptions = self.table.get(type(recorded.event).name(), ())
        if not subscriptions:
            return []
        info = await self._case(recorded)
        revealed = {path: await self.vault.reveal(value) for path, value in info.sealed.items()}
        planned: dict[str, Planned] = {}
        for subscription in subscriptions:
            if not subscription.applies_to(recorded.event):
                continue
            for person in await self._people(subscription, recorded, info):
                for channel in subscription.channels:
                    delivery = self._delivery(subscription, channel, person, recorded, info, now, revealed)
                    if delivery is not None and delivery.delivery_id not in planned:
                        planned[delivery.delivery_id] = delivery
        return list(planned.values())

    # -- cases ---------------------------------------------------------------------------------
    async def _case(self, recorded: RecordedEvent) -> CaseInfo:
        wait = self.settings.contact_wait_seconds
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            info = await self.cases(recorded)
            if info.ready:
                return info
            if asyncio.get_running_loop().time() >= deadline:
                raise NotProjectedYetError(f"{recorded.ref.id}: {info.missing}")
            await asyncio.sleep(0.05)

    # -- people --------------------------------------------------------------------------------
    async def _people(
        self, subscription: Subscription, recorded: RecordedEvent, info: CaseInfo
    ) -> list[Person]:
        people: list[Person] = []
        for recipient in subscription.recipients:
            if recipient in ("requester", "complainant"):
                if info.citizen_role == recipient and info.contact:
                    people.append(await self._citizen(recipient, info.contact))
            elif recipient.startswith("role:"):
                people += self._officers(recipient.removeprefix("role:"))
            elif recipient == "responsible" and isinstance(recorded.event, SLAWarning | SLABreached):
                clock = recorded.event.clock
                role = self.settings.sla_responsible_roles.get(
                    clock, self.settings.sla_default_responsible_role
                )
                people += self._handlers(info.handlers) or self._officers(role)
            elif recipient == "assignee":
                people += self._handlers(info.handlers) or self._officers("complaint_team")
            elif recipient == "escalation" and isinstance(recorded.event, SLABreached):
                people += self._officers(recorded.event.escalate_to)
            elif recipient == "host" and isinstance(recorded.event, HostDayListDue):
                host = recorded.event.host_id
                emails = self.settings.host_emails.get(host, [])
                phones = self.settings.host_phones.get(host, [])
                if not emails and not phones:  # the host id only: no address is logged
                    log.warning(
                        "notifier.host_without_addresses",
                        host_id=host,
                        hint="SERAMBI_HOST_EMAILS / SERAMBI_HOST_PHONES",
                    )
                people += [Person(RecipientKind.OFFICER, "host", None, e, None) for e in emails]
                people += [Person(RecipientKind.OFFICER, "host", None, None, p) for p in phones]
        return people

    async def _citizen(self, role: str, contact: dict[str, Any]) -> Person:
        sealed = [value for value in contact.values() if value]
        revealed = {name: await self.vault.reveal(value) for name, value in contact.items()}
        erased = any(contact.get(name) and revealed[name] is None for name in ("email", "phone"))
        return Person(
            RecipientKind.CITIZEN,
            role,
            revealed.get("name"),
            revealed.get("email"),
            revealed.get("phone"),
            erased=erased,
            key=sealed[0]["key"] if sealed else "",
        )

    def _officers(self, role: str) -> list[Person]:
        emails = self.settings.officer_emails.get(role, [])
        phones = self.settings.officer_phones.get(role, [])
        people = [Person(RecipientKind.OFFICER, role, None, email, None) for email in emails]
        people += [Person(RecipientKind.OFFICER, role, None, None, phone) for phone in phones]
        return people

    def _handlers(self, handlers: tuple[str, ...]) -> list[Person]:
        """The officers of the first handler (assigned officer, then team) with addresses."""
        for handler in handlers:
            emails = self.settings.assignee_emails.get(handler, [])
            phones = self.settings.assignee_phones.get(handler, [])
            if emails or phones:
                people = [Person(RecipientKind.OFFICER, "assignee", None, e, None) for e in emails]
                return people + [Person(RecipientKind.OFFICER, "assignee", None, None, p) for p in phones]
        return []

    # -- one delivery --------------------------------------------------------------------------
    def _sent_on_whatsapp(self, recorded: RecordedEvent, person: Person, info: CaseInfo) -> bool:
        """Whether the complaints service sends this notice to this complainant on WhatsApp (its
        channel is on, the complaint came by WhatsApp and has their number): then no SMS repeats
        it on the same phone (their e-mail still goes; if WhatsApp cannot deliver it, the
        complaints service records ComplaintReplyFailed and its subscription sends the SMS)."""
        return (
            self.settings.whatsapp_mode == "cloud"
            and person.kind is RecipientKind.CITIZEN
            and person.phone is not None
            and isinstance(recorded.event, SENT_ON_WHATSAPP)
            and info.context.get("case", {}).get("channel") == ComplaintChannel.WHATSAPP.value
        )

    def _delivery(
        self,
        subscription: Subscription,
        channel: Channel,
        person: Person,
        recorded: RecordedEvent,
        info: CaseInfo,
        now: datetime,
        revealed: dict[str, str | None],
    ) -> Planned | None:
        if channel is Channel.SMS and self._sent_on_whatsapp(recorded, person, info):
            return None
        raw = person.email if channel is Channel.EMAIL else person.phone
        problem = None
        if raw is None:
            if not person.erased:
                return None  # no address for this channel: nothing to send
            problem = ERASED
            address = None
            masked = "(erased)"
            digest = self.vault.lookup_hash(f"erased:{person.key}:{person.role}:{channel.value}")
        else:
            address, problem = _normalise(channel, raw)
            masked = (mask_email(address) if channel is Channel.EMAIL else mask_phone(address)) or "***"
            digest = self.vault.lookup_hash(address)
        language = (
            self.settings.citizen_language
            if person.kind is RecipientKind.CITIZEN
            else self.settings.officer_language
        )
        not_before = None
        # citizens and hosting officials (officers on their own phones) are not woken up
        quiet = person.kind is RecipientKind.CITIZEN or person.role == "host"
        if channel is Channel.SMS and quiet and self.quiet.contains(now):
            not_before = self.quiet.release(now)
        office, office_short = OFFICE[language]
        context = {
            **info.context,
            "case": dict(info.context.get("case", {})),
            "event": recorded.event,
            "recipient": {"name": person.name, "role": person.role},
            "office": office,
            "office_short": office_short,
        }
        if person.kind is RecipientKind.CITIZEN:  # their own words; never in officers' notices
            for path, value in revealed.items():
                if path.startswith("case."):
                    context["case"][path.removeprefix("case.")] = value
                else:
                    context[path] = value
        return Planned(
            delivery_id=deterministic_id("delivery", recorded.envelope.id, channel.value, digest),
            notice=subscription.notice,
            channel=channel,
            recipient_kind=person.kind,
            recipient_role=person.role,
            address=address,
            recipient_masked=masked,
            recipient_hash=digest,
            language=language,
            case_id=info.case_id,
            attach=subscription.attach if channel is Channel.EMAIL else (),
            context=context,
            problem=problem,
            not_before=not_before,
            subject_key=(person.key or None) if person.kind is RecipientKind.CITIZEN else None,
        )


def _normalise(channel: Channel, raw: str) -> tuple[str, str | None]:
    """(normalised address, problem or None)."""
    if channel is Channel.EMAIL:
        try:
            return validate_email(raw, check_deliverability=False).normalized, None
        except EmailNotValidError as exc:
            return raw.strip().lower(), f"invalid email address: {exc}"
    try:
        return to_e164(raw), None
    except PhoneNumberError as exc:
        return raw.strip(), f"invalid phone number: {exc}"

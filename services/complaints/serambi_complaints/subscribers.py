"""Complaints' consumers: the read model, the clock timers, fired timers, LAPOR! status."""

from __future__ import annotations

from serambi_contracts.audit import PersonalDataAccessed
from serambi_contracts.complaints import COMPLAINT_EVENTS, ComplaintChannel, ComplaintTier
from serambi_contracts.sla import SLABreached, SLAWarning
from serambi_kit import timers
from serambi_kit.runtime import Runtime
from serambi_kit.slametrics import declare_sla_series
from serambi_kit.topology import ConsumerSpec

from .adapters.lapor_status import StatusPusher
from .adapters.projections import TRACKING
from .adapters.whatsapp_replies import WhatsAppReplies
from .application.sla_timers import ClockKeeper, open_clocks
from .domain import TRIAGE
from .settings import ComplaintsSettings

COMPLAINT_SUBJECTS = ("complaints.complaint.>",)
TRACKING_EVENTS = ConsumerSpec("complaints", "tracking", "complaints", COMPLAINT_SUBJECTS)
CLOCK_EVENTS = ConsumerSpec("complaints", "clock-timers", "complaints", COMPLAINT_SUBJECTS)
FIRED_TIMERS = timers.due_consumer("complaints")
LAPOR_STATUS = ConsumerSpec("complaints", "lapor-status", "complaints", COMPLAINT_SUBJECTS)
WHATSAPP_REPLIES = ConsumerSpec("complaints", "whatsapp-replies", "complaints", COMPLAINT_SUBJECTS)


def register(
    runtime: Runtime,
    settings: ComplaintsSettings,
    keeper: ClockKeeper,
    lapor_pusher: StatusPusher | None,
    whatsapp_replies: WhatsAppReplies | None,
) -> None:
    runtime.project(TRACKING_EVENTS, TRACKING)
    runtime.consume(
        CLOCK_EVENTS,
        keeper.on_complaint_event,
        "Arms, moves and cancels each complaint's SLA timers as its events happen.",
        workers=settings.clock_workers,
    )
    runtime.consume(
        FIRED_TIMERS,
        keeper.on_clock_due,
        "Checks a complaint when one of its SLA timers fires; appends SLAWarning or SLABreached.",
        workers=settings.timer_workers,
    )
    if lapor_pusher is not None:
        runtime.consume(
            LAPOR_STATUS,
            lapor_pusher.on_event,
            "Records each step of an SP4N-LAPOR! complaint to report back to LAPOR!.",
        )
    if whatsapp_replies is not None:
        runtime.consume(
            WHATSAPP_REPLIES,
            whatsapp_replies.on_event,
            "Records the tracking link and the answer to send back to a WhatsApp complainant.",
        )
    runtime.publishes("complaints", "complaint", *COMPLAINT_EVENTS, SLAWarning, SLABreached)
    runtime.gauges.add("open_clocks", open_clocks)
    declare_sla_series([TRIAGE, *(tier.value for tier in ComplaintTier)], [c.value for c in ComplaintChannel])
    runtime.publishes("complaints", "access", PersonalDataAccessed)

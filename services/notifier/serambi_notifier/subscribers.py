"""Notifier's consumers: per stream, one that keeps the ``cases`` read model and one that turns
events into deliveries. Event types the notifier has no notice for are acked and ignored — also
types this version of the catalogue does not know (``ignore_unknown_types``)."""

from __future__ import annotations

from serambi_contracts.audit import PersonalDataAccessed
from serambi_contracts.notifier import NotificationFailed, NotificationSent
from serambi_kit.runtime import Runtime
from serambi_kit.topology import ConsumerSpec

from .adapters.projections import CASES_PROJECTION
from .application.dispatch import Dispatcher

STREAMS = (
    ("intake", "intake.request.>"),
    ("scheduling", "scheduling.audience.>"),
    ("complaints", "complaints.complaint.>"),
)
CASE_CONSUMERS = tuple(
    ConsumerSpec("notifier", f"cases-{context}", context, (subject,)) for context, subject in STREAMS
)
#: what only the notices need (no case to project): the hosts' day lists
NOTIFY_ONLY = {"scheduling": ("scheduling.daylist.*.HostDayListDue",)}
NOTIFY_CONSUMERS = (
    *(
        ConsumerSpec("notifier", f"notify-{context}", context, (subject, *NOTIFY_ONLY.get(context, ())))
        for context, subject in STREAMS
    ),
    # the satisfaction survey's invitations (intake), to the case's citizen
    ConsumerSpec("notifier", "notify-survey", "intake", ("intake.survey.>",)),
)


def register(runtime: Runtime, dispatcher: Dispatcher, workers: int) -> None:
    for spec in CASE_CONSUMERS:
        runtime.project(spec, CASES_PROJECTION)
    for spec in NOTIFY_CONSUMERS:
        runtime.consume(
            spec,
            dispatcher.handle,
            f"Sends the email and SMS notices of {spec.context} events (one delivery per cause "
            "event, channel and recipient).",
            ignore_unknown_types=True,
            workers=workers,
        )
    runtime.publishes("notifier", "delivery", NotificationSent, NotificationFailed)
    runtime.publishes("notifier", "access", PersonalDataAccessed)  # the delivery log's searches

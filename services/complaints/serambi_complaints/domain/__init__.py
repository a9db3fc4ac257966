"""The complaint domain: state, rules, commands and SLA decisions. Pure, no I/O."""

from .commands import (
    ComplaintError,
    ComplaintExistsError,
    ReceiveComplaint,
    UnknownComplaintError,
    decide_answer,
    decide_assign,
    decide_classify,
    decide_close,
    decide_link,
    decide_pause,
    decide_receive,
    decide_reopen,
    decide_resume,
)
from .rules import Rules
from .sla import BREACH, Threshold, check, decide_check, pending, revise_deadline, schedule, sla_event_id
from .state import OPEN_STATUSES, TRIAGE, Complaint, Status, evolve, fold

__all__ = [
    "BREACH",
    "OPEN_STATUSES",
    "Complaint",
    "ComplaintError",
    "ComplaintExistsError",
    "ReceiveComplaint",
    "Rules",
    "Status",
    "TRIAGE",
    "Threshold",
    "UnknownComplaintError",
    "check",
    "decide_answer",
    "decide_assign",
    "decide_check",
    "decide_classify",
    "decide_close",
    "decide_link",
    "decide_pause",
    "decide_receive",
    "decide_reopen",
    "decide_resume",
    "evolve",
    "fold",
    "pending",
    "revise_deadline",
    "schedule",
    "sla_event_id",
]

"""Intake's consumers: its own events and scheduling's audience events, projected into the
request views and the guest book; the survey's invitations (an audience held, a complaint
closed) and the survey's read models."""

from datetime import UTC, datetime, timedelta

from serambi_contracts.audit import PersonalDataAccessed, PersonalDataErased
from serambi_contracts.complaints import ComplaintClosed
from serambi_contracts.intake import GuestRegistered, RequestLinkRequested, RequestSubmitted, RequestWithdrawn
from serambi_contracts.scheduling import AudienceHeld
from serambi_contracts.survey import SurveyAnswered, SurveyInvited, SurveyService
from serambi_kit.eventstore import RecordedEvent
from serambi_kit.runtime import Runtime
from serambi_kit.topology import ConsumerSpec

from .adapters.mongo import MongoRequestViews
from .adapters.projections import GUEST_BOOK, REQUEST_VIEWS, SURVEY_INVITATIONS, SURVEY_RESPONSES
from .application import surveys

REQUEST_EVENTS = ConsumerSpec("intake", "tracking-requests", "intake", ("intake.request.>",))
AUDIENCE_EVENTS = ConsumerSpec("intake", "tracking-audiences", "scheduling", ("scheduling.audience.>",))
GUEST_EVENTS = ConsumerSpec("intake", "guestbook", "intake", ("intake.guest.>",))
HELD_AUDIENCES = ConsumerSpec(
    "intake", "survey-audiences", "scheduling", ("scheduling.audience.*.AudienceHeld",)
)
CLOSED_COMPLAINTS = ConsumerSpec(
    "intake", "survey-complaints", "complaints", ("complaints.complaint.*.ComplaintClosed",)
)
INVITATION_EVENTS = ConsumerSpec("intake", "survey-invitations", "intake", ("intake.survey.>",))
RESPONSE_EVENTS = ConsumerSpec("intake", "survey-responses", "intake", ("intake.response.>",))


def register(runtime: Runtime) -> None:
    max_age = timedelta(days=runtime.settings.survey_max_age_days)

    async def on_case_ended(recorded: RecordedEvent) -> None:
        event = recorded.event
        now = datetime.now(UTC)
        if isinstance(event, AudienceHeld):
            code = event.request_tracking_code
            await surveys.invite(
                runtime.store,
                runtime.vault,
                SurveyService.AUDIENSI,
                code,
                event.held_at,
                now=now,
                max_age=max_age,
                found_with=await MongoRequestViews(runtime.db).subject_keys(code),
            )
        elif isinstance(event, ComplaintClosed):
            await surveys.invite(
                runtime.store,
                runtime.vault,
                SurveyService.PENGADUAN,
                event.tracking_code,
                event.closed_at,
                now=now,
                max_age=max_age,
            )

    runtime.project(REQUEST_EVENTS, REQUEST_VIEWS)
    runtime.project(AUDIENCE_EVENTS, REQUEST_VIEWS)
    runtime.project(GUEST_EVENTS, GUEST_BOOK)
    runtime.project(INVITATION_EVENTS, SURVEY_INVITATIONS)
    runtime.project(RESPONSE_EVENTS, SURVEY_RESPONSES)
    runtime.consume(
        HELD_AUDIENCES,
        on_case_ended,
        "Invites the requester of a held audience to the satisfaction survey (once).",
    )
    runtime.consume(
        CLOSED_COMPLAINTS,
        on_case_ended,
        "Invites the complainant of a closed complaint to the satisfaction survey (once).",
    )
    runtime.publishes("intake", "request", RequestSubmitted, RequestWithdrawn, RequestLinkRequested)
    runtime.publishes("intake", "guest", GuestRegistered)
    runtime.publishes("intake", "survey", SurveyInvited)
    runtime.publishes("intake", "response", SurveyAnswered)
    runtime.publishes("intake", "access", PersonalDataAccessed)
    runtime.publishes("intake", "erasure", PersonalDataErased)  # serambi_kit.admin.erasure_router

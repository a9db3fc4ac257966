"""Audience use cases: open and place a submitted request, the officer's decisions, withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from serambi_contracts import AggregateRef
from serambi_contracts.base import Sealed
from serambi_contracts.intake import DocumentRef, RequestSubmitted
from serambi_kit.eventstore import deterministic_id
from serambi_kit.logging import get_logger
from serambi_kit.messaging import OutOfOrderError
from serambi_kit.pii import reveal_text

from ..domain import audience as rules_of_audience
from ..domain.audience import UNDECIDED, Audience, Placement, Status, audience_of
from ..domain.errors import NotFoundError, SlotTakenError, StateError
from ..domain.rules import BusyView, Request, Slot, check, find_slot
from ..domain.time import wib_day
from . import placement, reminders, sla
from .context import Context, LetterContent
from .placement import Plan, learned

log = get_logger(__name__)
SYSTEM = "scheduling"
MAX_SEARCHES = 200


async def letter(
    ctx: Context,
    state: Audience,
    kind: str,
    *,
    p: Placement | None = None,
    previous: Placement | None = None,
    reason: str | None = None,
) -> DocumentRef:
    request = state.request
    content = LetterContent(
        kind=kind,
        reference=request.request_tracking_code,
        issued_at=ctx.now(),
        institution=request.institution,
        requester_position=request.requester_position,
        topic=await reveal_text(ctx.vault, request.topic),  # None once the requester was erased
        submitted_at=request.submitted_at,
        participants=request.participants,
        signatory=ctx.signatory,
        placement=p,
        previous=(previous.starts_at, previous.ends_at) if previous else None,
        reason=reason,
    )
    key = await requester_key(ctx, state)  # the letter is sealed under it: erased with the requester
    return await ctx.letters.put(state.audience_id, ctx.render_letter(content), ctx.now(), key)


async def open_request(ctx: Context, request: RequestSubmitted, cause_id: str) -> Audience:
    """Open the audience case for a submitted request (once, however often it arrives). Its
    topic goes on sealed; a request recorded before RequestSubmitted version 2 had it in clear,
    so that one is sealed here under the requester's key before it is copied."""
    if isinstance(request.topic, str):
        sealed = await ctx.vault.seal(request.requester.name.key, request.topic)
        request = request.model_copy(update={"topic": sealed})

    async def step(state: Audience | None, version: int) -> Plan:
        events = rules_of_audience.open_case([] if state is None else [state.request], request)
        return Plan(events, event_ids=[deterministic_id(cause_id, "open")])

    state, _ = await placement.run(ctx, request.tracking_code, step)
    assert state is not None
    return state


def _horizon_days(ctx: Context, state: Audience) -> list[date]:
    if state.request.proposed_dates:
        return list(state.request.proposed_dates)
    today = wib_day(ctx.now())
    return [today + timedelta(days=n) for n in range(ctx.rules.horizon_days * 2 + 14)]


async def place_automatically(ctx: Context, audience_id: str, cause_id: str) -> Audience | None:
    """Propose (hold mode) or book (book mode) the earliest slot, or refer the request to the
    officers when nothing fits. Nothing happens unless the audience is still ``requested``."""
    view: BusyView | None = None

    async def step(state: Audience | None, version: int) -> Plan:
        nonlocal view
        if state is None or state.status is not Status.REQUESTED:
            return Plan([])
        await ctx.catalog.refresh()
        if view is None:
            view = ctx.recent.merge_into(await ctx.bookings.busy(_horizon_days(ctx, state)))
        ids = [deterministic_id(cause_id, "place", str(version))]
        request = Request(state.request.participants, tuple(state.request.proposed_dates))
        for _ in range(MAX_SEARCHES):
            found = find_slot(
                request,
                ctx.catalog.rooms.values(),
                ctx.catalog.hosts.values(),
                view,
                ctx.calendar,
                ctx.rules,
                ctx.now(),
            )
            if isinstance(found, str):
                return Plan(rules_of_audience.refer(state, found, SYSTEM), event_ids=ids)
            try:
                p = await placement.book(ctx, state, found)
            except SlotTakenError as taken:
                learned(view, taken)
                continue
            if ctx.mode == "hold":
                return Plan(rules_of_audience.propose(state, p, SYSTEM), booked=p, event_ids=ids)
            answer = await letter(ctx, state, "scheduled", p=p)
            return Plan(rules_of_audience.schedule(state, p, SYSTEM, answer), booked=p, event_ids=ids)
        raise RuntimeError(f"no bookable slot for {audience_id} after {MAX_SEARCHES} searches")

    state, _ = await placement.run(ctx, audience_id, step)
    return state


@dataclass(frozen=True, slots=True)
class SlotChoice:
    room_id: str
    host_id: str
    starts_at: datetime
    ends_at: datetime | None = None


async def _checked_slot(ctx: Context, state: Audience, choice: SlotChoice) -> Slot:
    """The officer's slot, if it keeps every rule (422/409 before anything is booked)."""
    await ctx.catalog.refresh()
    ends = choice.ends_at or choice.starts_at + ctx.rules.meeting
    room = ctx.catalog.rooms.get(choice.room_id)
    host = ctx.catalog.hosts.get(choice.host_id)
    view = await ctx.bookings.busy([wib_day(choice.starts_at)])
    check(
        choice.starts_at,
        ends,
        room,
        host,
        state.request.participants,
        room_id=choice.room_id,
        host_id=choice.host_id,
        calendar=ctx.calendar,
        busy=view,
        buffer=ctx.rules.buffer,
        now=ctx.now(),
        audience_id=state.audience_id,
    )
    assert room is not None and host is not None
    return Slot(choice.starts_at, ends, room, host)


def _found(state: Audience | None, audience_id: str) -> Audience:
    if state is None:
        raise NotFoundError(f"no audience {audience_id}")
    return state


async def confirm(ctx: Context, audience_id: str, by: str) -> Audience:
    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        p = rules_of_audience.confirm_target(state)
        answer = await letter(ctx, state, "scheduled", p=p)
        return Plan(rules_of_audience.schedule(state, p, by, answer))

    return await _done(ctx, await placement.run(ctx, audience_id, step))


async def choose_slot(ctx: Context, audience_id: str, choice: SlotChoice, by: str) -> Audience:
    """Schedule an undecided audience at the officer's slot (instead of any proposal)."""

    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        rules_of_audience.require(state, UNDECIDED, "schedule")
        slot = await _checked_slot(ctx, state, choice)
        p = await placement.book(ctx, state, slot)
        answer = await letter(ctx, state, "scheduled", p=p)
        return Plan(
            rules_of_audience.schedule(state, p, by, answer),
            booked=p,
            frees=state.placement,
            free_reason="another slot was chosen",
        )

    return await _done(ctx, await placement.run(ctx, audience_id, step))


async def reschedule(ctx: Context, audience_id: str, choice: SlotChoice, reason: str, by: str) -> Audience:
    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        rules_of_audience.require(state, (Status.SCHEDULED,), "reschedule")
        if state.placement is None:
            raise StateError(f"audience {audience_id} holds no booked slot to move")
        slot = await _checked_slot(ctx, state, choice)
        p = await placement.book(ctx, state, slot)
        answer = await letter(ctx, state, "rescheduled", p=p, previous=state.placement, reason=reason)
        return Plan(
            rules_of_audience.reschedule(state, p, reason, by, answer),
            booked=p,
            frees=state.placement,
            free_reason="rescheduled",
        )

    return await _done(ctx, await placement.run(ctx, audience_id, step))


async def decline(ctx: Context, audience_id: str, reason: str, by: str) -> Audience:
    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        rules_of_audience.require(state, UNDECIDED, "decline")
        answer = await letter(ctx, state, "declined", reason=reason)
        return Plan(
            rules_of_audience.decline(state, reason, by, answer),
            frees=state.placement,
            free_reason="declined",
        )

    return await _done(ctx, await placement.run(ctx, audience_id, step))


async def requester_key(ctx: Context, state: Audience) -> str:
    """The requester's data key id: their sealed topic's; for an audience opened before
    AudienceRequested version 2, that of the request's sealed name (intake's RequestSubmitted)."""
    if state.requester_key is not None:
        return state.requester_key
    code = state.request.request_tracking_code
    history = await ctx.store.load(AggregateRef("intake", "request", code))
    first = history.payloads[0] if history.payloads else None
    if not isinstance(first, RequestSubmitted):
        raise StateError(
            f"the requester of audience {state.audience_id} is not known here: "
            "nothing personal can be sealed for them"
        )
    return first.requester.name.key


async def requester_key_of(ctx: Context, audience_id: str) -> str | None:
    """The requester's data key id of an audience, or None when the audience or (for one opened
    before AudienceRequested version 2) intake's request is not found."""
    state = audience_of((await ctx.store.load(placement.audience_ref(audience_id))).payloads)
    if state is None:
        return None
    try:
        return await requester_key(ctx, state)
    except StateError:
        return None


async def seal_for_requester(ctx: Context, state: Audience, text: str | None) -> Sealed | None:
    """An officer's free text about the requester's case, sealed under the requester's key
    (erasing the requester erases it); None for no text."""
    if not text:
        return None
    return await ctx.vault.seal(await requester_key(ctx, state), text)


async def mark_held(
    ctx: Context, audience_id: str, by: str, held_at: datetime | None, notes: str | None
) -> Audience:
    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        now = ctx.now()
        rules_of_audience.require(state, (Status.SCHEDULED,), "mark as held")
        sealed = await seal_for_requester(ctx, state, notes)
        return Plan(rules_of_audience.mark_held(state, held_at or now, by, sealed, now))

    return await _done(ctx, await placement.run(ctx, audience_id, step))


async def mark_no_show(ctx: Context, audience_id: str, by: str, notes: str | None) -> Audience:
    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        rules_of_audience.require(state, (Status.SCHEDULED,), "mark as a no-show")
        sealed = await seal_for_requester(ctx, state, notes)
        return Plan(rules_of_audience.mark_no_show(state, by, sealed, ctx.now()))

    return await _done(ctx, await placement.run(ctx, audience_id, step))


async def cancel(ctx: Context, audience_id: str, reason: str, by: str) -> Audience:
    """An officer cancels: their reason is sealed under the requester's key (it goes to the
    requester in the notice, not in an answer letter); the public reason says only who."""

    async def step(state: Audience | None, version: int) -> Plan:
        state = _found(state, audience_id)
        rules_of_audience.require(state, (*UNDECIDED, Status.SCHEDULED), "cancel")
        sealed = await seal_for_requester(ctx, state, reason)
        return Plan(
            rules_of_audience.cancel(state, sealed, by), frees=state.placement, free_reason="cancelled"
        )

    return await _done(ctx, await placement.run(ctx, audience_id, step))


class NotOpenedYetError(OutOfOrderError):
    """A withdrawal arrived before its request was opened here (retried later)."""


async def withdraw(ctx: Context, tracking_code: str, cause_id: str) -> None:
    """The requester withdrew: cancel the audience and free its slot (once). Their reason is
    their own words, sealed in RequestWithdrawn: never copied into AudienceCancelled."""

    async def step(state: Audience | None, version: int) -> Plan:
        if state is None:
            raise NotOpenedYetError(f"audience {tracking_code} is not opened yet")
        events = rules_of_audience.cancel(state, None, "requester", withdrawn=True)
        return Plan(
            events,
            frees=state.placement,
            free_reason="withdrawn",
            event_ids=[deterministic_id(cause_id, "withdraw")],
        )

    await placement.run(ctx, tracking_code, step)


async def settle(ctx: Context, state: Audience) -> Audience:
    """Once answered or closed, the answer clock's timers are purged (best effort: a timer that
    still fires finds the clock stopped and does nothing); the requester's reminders follow the
    audience's slot: armed for a scheduled one (moved with a reschedule), purged otherwise."""
    if not state.clock_running:
        try:
            await sla.disarm(ctx, state.audience_id)
        except Exception as exc:  # noqa: BLE001
            log.warning("sla.disarm_failed", audience_id=state.audience_id, error=repr(exc))
    await reminders.settle(ctx, state)
    return state


async def _done(ctx: Context, result: tuple[Audience | None, Plan]) -> Audience:
    state, _ = result
    if state is None:
        raise StateError("the audience vanished")  # pragma: no cover — aggregates are never deleted
    return await settle(ctx, state)

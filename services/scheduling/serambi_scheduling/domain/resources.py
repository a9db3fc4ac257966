"""Rooms and hosting officials: their state from events, and the admin's decisions. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from serambi_contracts import Event
from serambi_contracts.scheduling import (
    HostAvailabilitySet,
    HostChanged,
    HostLeaveCancelled,
    HostLeaveRecorded,
    HostRegistered,
    RoomChanged,
    RoomRegistered,
    WeeklyWindow,
)

from .errors import NotFoundError, ResourceExistsError, StateError


@dataclass(frozen=True, slots=True)
class Room:
    room_id: str
    name: str
    capacity: int
    location: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Leave:
    leave_id: str
    first_day: date
    last_day: date
    reason: str | None = None

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


@dataclass(frozen=True, slots=True)
class Host:
    host_id: str
    name: str
    position: str
    active: bool = True
    weekly: tuple[WeeklyWindow, ...] | None = None  # None: all working time
    leaves: tuple[Leave, ...] = ()

    def on_leave(self, day: date) -> Leave | None:
        return next((leave for leave in self.leaves if leave.covers(day)), None)

    def available(self, starts_local: datetime, ends_local: datetime) -> bool:
        """Inside one of the weekly windows (WIB wall-clock times; no window: always)."""
        if self.weekly is None:
            return True
        weekday, start, end = starts_local.isoweekday(), starts_local.time(), ends_local.time()
        if ends_local.date() != starts_local.date():
            end = time.max
        return any(w.weekday == weekday and w.starts <= start and end <= w.ends for w in self.weekly)


def evolve_room(state: Room | None, event: Event) -> Room | None:
    match event:
        case RoomRegistered():
            return Room(event.room_id, event.room_name, event.capacity, event.location)
        case RoomChanged() if state is not None:
            return Room(state.room_id, event.room_name, event.capacity, event.location, event.active)
    return state


def evolve_host(state: Host | None, event: Event) -> Host | None:
    match event:
        case HostRegistered():
            return Host(event.host_id, event.host_name, event.position)
        case HostChanged() if state is not None:
            return replace(state, name=event.host_name, position=event.position, active=event.active)
        case HostAvailabilitySet() if state is not None:
            return replace(state, weekly=tuple(event.weekly))
        case HostLeaveRecorded() if state is not None:
            leave = Leave(event.leave_id, event.first_day, event.last_day, event.reason)
            return replace(state, leaves=(*state.leaves, leave))
        case HostLeaveCancelled() if state is not None:
            return replace(state, leaves=tuple(x for x in state.leaves if x.leave_id != event.leave_id))
    return state


def room_of(history: Iterable[Event]) -> Room | None:
    state = None
    for event in history:
        state = evolve_room(state, event)
    return state


def host_of(history: Iterable[Event]) -> Host | None:
    state = None
    for event in history:
        state = evolve_host(state, event)
    return state


# -- decisions -------------------------------------------------------------------------------
def register_room(history: Sequence[Event], room: Room, by: str) -> list[Event]:
    if room_of(history) is not None:
        raise ResourceExistsError(f"room {room.room_id} is already registered")
    return [
        RoomRegistered(
            room_id=room.room_id,
            room_name=room.name,
            capacity=room.capacity,
            location=room.location,
            registered_by=by,
        )
    ]


def change_room(history: Sequence[Event], room: Room, by: str) -> list[Event]:
    current = room_of(history)
    if current is None:
        raise NotFoundError(f"no room {room.room_id}")
    if current == room:
        return []
    return [
        RoomChanged(
            room_id=room.room_id,
            room_name=room.name,
            capacity=room.capacity,
            location=room.location,
            active=room.active,
            changed_by=by,
        )
    ]


def register_host(history: Sequence[Event], host: Host, by: str) -> list[Event]:
    if host_of(history) is not None:
        raise ResourceExistsError(f"host {host.host_id} is already registered")
    return [
        HostRegistered(host_id=host.host_id, host_name=host.name, position=host.position, registered_by=by)
    ]


def _existing_host(history: Sequence[Event], host_id: str) -> Host:
    current = host_of(history)
    if current is None:
        raise NotFoundError(f"no host {host_id}")
    return current


def change_host(
    history: Sequence[Event], host_id: str, name: str, position: str, active: bool, by: str
) -> list[Event]:
    current = _existing_host(history, host_id)
    if (current.name, current.position, current.active) == (name, position, active):
        return []
    return [HostChanged(host_id=host_id, host_name=name, position=position, active=active, changed_by=by)]


def set_availability(
    history: Sequence[Event], host_id: str, weekly: Sequence[WeeklyWindow], by: str
) -> list[Event]:
    current = _existing_host(history, host_id)
    if current.weekly == tuple(weekly):
        return []
    return [HostAvailabilitySet(host_id=host_id, weekly=list(weekly), set_by=by)]


def record_leave(history: Sequence[Event], host_id: str, leave: Leave, by: str) -> list[Event]:
    current = _existing_host(history, host_id)
    if any(x.leave_id == leave.leave_id for x in current.leaves):
        raise ResourceExistsError(f"leave {leave.leave_id} of host {host_id} exists already")
    return [
        HostLeaveRecorded(
            host_id=host_id,
            leave_id=leave.leave_id,
            first_day=leave.first_day,
            last_day=leave.last_day,
            reason=leave.reason,
            recorded_by=by,
        )
    ]


def cancel_leave(history: Sequence[Event], host_id: str, leave_id: str, by: str) -> list[Event]:
    current = _existing_host(history, host_id)
    if not any(x.leave_id == leave_id for x in current.leaves):
        raise StateError(f"host {host_id} has no leave {leave_id}")
    return [HostLeaveCancelled(host_id=host_id, leave_id=leave_id, cancelled_by=by)]

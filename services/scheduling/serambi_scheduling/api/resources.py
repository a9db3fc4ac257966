"""Admin routes (role admin): rooms and hosting officials; listing is open to schedulers too."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, model_validator
from serambi_contracts.scheduling import WeeklyWindow

from ..application import resources
from ..domain.errors import NotFoundError
from ..domain.resources import Host, Leave, Room
from .common import Admin, Body, Ctx, ResourceId, Scheduler, Text, by

router = APIRouter(prefix="/api/v1", tags=["resources"])


class RoomBody(Body):
    room_id: ResourceId
    name: Text
    capacity: int = Field(ge=1, le=1000)
    location: Text


class RoomUpdate(Body):
    name: Text
    capacity: int = Field(ge=1, le=1000)
    location: Text
    active: bool = True


class HostBody(Body):
    host_id: ResourceId
    name: Text
    position: Text


class HostUpdate(Body):
    name: Text
    position: Text
    active: bool = True


class AvailabilityBody(Body):
    weekly: list[WeeklyWindow] = Field(max_length=50)


class LeaveBody(Body):
    leave_id: ResourceId | None = None
    first_day: date
    last_day: date
    reason: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _ordered(self) -> LeaveBody:
        if self.last_day < self.first_day:
            raise ValueError("last_day must be on or after first_day")
        return self


class RoomOut(BaseModel):
    room_id: str
    name: str
    capacity: int
    location: str
    active: bool


class LeaveOut(BaseModel):
    leave_id: str
    first_day: date
    last_day: date
    reason: str | None


class HostOut(BaseModel):
    host_id: str
    name: str
    position: str
    active: bool
    weekly: list[WeeklyWindow] | None = Field(description="null: available all working time")
    leaves: list[LeaveOut]


def room_json(room: Room) -> dict[str, Any]:
    return asdict(room)


def host_json(host: Host) -> dict[str, Any]:
    return {
        "host_id": host.host_id,
        "name": host.name,
        "position": host.position,
        "active": host.active,
        "weekly": None if host.weekly is None else [w.model_dump(mode="json") for w in host.weekly],
        "leaves": [
            {
                **asdict(leave),
                "first_day": leave.first_day.isoformat(),
                "last_day": leave.last_day.isoformat(),
            }
            for leave in host.leaves
        ],
    }


@router.get("/rooms", response_model=list[RoomOut])
async def list_rooms(ctx: Ctx, _: Scheduler) -> list[dict[str, Any]]:
    await ctx.catalog.refresh()
    return [room_json(r) for r in sorted(ctx.catalog.rooms.values(), key=lambda r: r.room_id)]


@router.post("/rooms", status_code=status.HTTP_201_CREATED, response_model=RoomOut)
async def register_room(body: RoomBody, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    room = Room(body.room_id, body.name, body.capacity, body.location)
    return room_json(await resources.register_room(ctx, room, by(officer)))


@router.put("/rooms/{room_id}", response_model=RoomOut)
async def change_room(room_id: str, body: RoomUpdate, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    await ctx.catalog.refresh()
    if room_id not in ctx.catalog.rooms:
        raise NotFoundError(f"no room {room_id}")
    room = Room(room_id, body.name, body.capacity, body.location, body.active)
    return room_json(await resources.change_room(ctx, room, by(officer)))


@router.get("/hosts", response_model=list[HostOut])
async def list_hosts(ctx: Ctx, _: Scheduler) -> list[dict[str, Any]]:
    await ctx.catalog.refresh()
    return [host_json(h) for h in sorted(ctx.catalog.hosts.values(), key=lambda h: h.host_id)]


@router.post("/hosts", status_code=status.HTTP_201_CREATED, response_model=HostOut)
async def register_host(body: HostBody, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    host = Host(body.host_id, body.name, body.position)
    return host_json(await resources.register_host(ctx, host, by(officer)))


async def _known_host(ctx, host_id: str) -> None:
    await ctx.catalog.refresh()
    if host_id not in ctx.catalog.hosts:
        raise NotFoundError(f"no host {host_id}")


@router.put("/hosts/{host_id}", response_model=HostOut)
async def change_host(host_id: str, body: HostUpdate, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    await _known_host(ctx, host_id)
    return host_json(
        await resources.change_host(ctx, host_id, body.name, body.position, body.active, by(officer))
    )


@router.put("/hosts/{host_id}/availability", response_model=HostOut)
async def set_availability(host_id: str, body: AvailabilityBody, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    await _known_host(ctx, host_id)
    return host_json(await resources.set_availability(ctx, host_id, body.weekly, by(officer)))


@router.post("/hosts/{host_id}/leave", status_code=status.HTTP_201_CREATED, response_model=HostOut)
async def record_leave(host_id: str, body: LeaveBody, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    await _known_host(ctx, host_id)
    leave = Leave(body.leave_id or uuid.uuid4().hex[:12], body.first_day, body.last_day, body.reason)
    return host_json(await resources.record_leave(ctx, host_id, leave, by(officer)))


@router.delete("/hosts/{host_id}/leave/{leave_id}", response_model=HostOut)
async def cancel_leave(host_id: str, leave_id: str, ctx: Ctx, officer: Admin) -> dict[str, Any]:
    await _known_host(ctx, host_id)
    return host_json(await resources.cancel_leave(ctx, host_id, leave_id, by(officer)))

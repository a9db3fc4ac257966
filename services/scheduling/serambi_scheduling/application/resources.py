"""Admin use cases for rooms and hosting officials, and the development seed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from serambi_contracts import AggregateRef, Event
from serambi_contracts.scheduling import WeeklyWindow
from serambi_kit.eventstore import execute
from serambi_kit.logging import get_logger

from ..domain import resources
from ..domain.errors import ResourceExistsError
from ..domain.resources import Host, Leave, Room
from ..settings import SchedulingSettings
from .context import Context

log = get_logger(__name__)
DEFAULT_ROOM = "ruang-rapat-biro"
DEFAULT_HOST = "kepala-biro"


def room_ref(room_id: str) -> AggregateRef:
    return AggregateRef("scheduling", "room", room_id)


def host_ref(host_id: str) -> AggregateRef:
    return AggregateRef("scheduling", "host", host_id)


async def _run(
    ctx: Context, ref: AggregateRef, decide: Callable[[list[Event]], Sequence[Event]]
) -> list[Event]:
    events = await execute(ctx.store, ref, decide)
    await ctx.catalog.refresh()
    return events


async def register_room(ctx: Context, room: Room, by: str) -> Room:
    await _run(ctx, room_ref(room.room_id), lambda h: resources.register_room(h, room, by))
    return ctx.catalog.rooms[room.room_id]


async def change_room(ctx: Context, room: Room, by: str) -> Room:
    await _run(ctx, room_ref(room.room_id), lambda h: resources.change_room(h, room, by))
    return ctx.catalog.rooms[room.room_id]


async def register_host(ctx: Context, host: Host, by: str) -> Host:
    await _run(ctx, host_ref(host.host_id), lambda h: resources.register_host(h, host, by))
    return ctx.catalog.hosts[host.host_id]


async def change_host(ctx: Context, host_id: str, name: str, position: str, active: bool, by: str) -> Host:
    await _run(
        ctx, host_ref(host_id), lambda h: resources.change_host(h, host_id, name, position, active, by)
    )
    return ctx.catalog.hosts[host_id]


async def set_availability(ctx: Context, host_id: str, weekly: Sequence[WeeklyWindow], by: str) -> Host:
    await _run(ctx, host_ref(host_id), lambda h: resources.set_availability(h, host_id, weekly, by))
    return ctx.catalog.hosts[host_id]


async def record_leave(ctx: Context, host_id: str, leave: Leave, by: str) -> Host:
    await _run(ctx, host_ref(host_id), lambda h: resources.record_leave(h, host_id, leave, by))
    return ctx.catalog.hosts[host_id]


async def cancel_leave(ctx: Context, host_id: str, leave_id: str, by: str) -> Host:
    await _run(ctx, host_ref(host_id), lambda h: resources.cancel_leave(h, host_id, leave_id, by))
    return ctx.catalog.hosts[host_id]


async def seed(ctx: Context, settings: SchedulingSettings) -> list[str]:
    """The default room and host when none is registered (development and test stacks)."""
    await ctx.catalog.refresh()
    seeded = []
    try:
        if not ctx.catalog.rooms:
            await register_room(
                ctx,
                Room(
                    DEFAULT_ROOM,
                    settings.default_room_name,
                    settings.default_room_capacity,
                    settings.default_room_location,
                ),
                "seed",
            )
            seeded.append(DEFAULT_ROOM)
        if not ctx.catalog.hosts:
            await register_host(
                ctx, Host(DEFAULT_HOST, settings.default_host_name, settings.default_host_position), "seed"
            )
            seeded.append(DEFAULT_HOST)
    except ResourceExistsError:
        await ctx.catalog.refresh()  # another replica seeded at the same moment
    if seeded:
        log.info("resources.seeded", resources=seeded)
    return seeded

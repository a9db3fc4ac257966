"""Rebuild a read model: replay its sources into a fresh collection, then swap it in.

1. Replay every event of the projection's source aggregates into ``<collection>__rebuild``.
2. Rename it over the live collection (atomic on the server).
3. Catch up: replay what was appended during steps 1–2 into the live collection; positions make
   events the live consumer already applied no-ops.
Messages that are not valid events (dead-lettered when consumed) are skipped and counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.aio.client import Client
from pymongo.asynchronous.database import AsyncDatabase

from .eventstore import parse_stored, read_raw
from .logging import get_logger
from .messaging import PERMANENT
from .projections import Projection, apply_change
from .topology import stream_name

log = get_logger(__name__)


@dataclass
class RebuildReport:
    collection: str
    applied: int = 0
    skipped_invalid: int = 0


async def _replay(
    nc: Client, db: AsyncDatabase, target: str, projection: Projection, from_sequences: dict[str, int],
    report: RebuildReport,
) -> dict[str, int]:
    """Apply the sources' events to ``target``; returns the next sequence per source."""
    next_sequences = dict(from_sequences)
    for source in projection.sources:
        context, aggregate = source.split(".")
        async for headers, data in read_raw(
            nc, stream_name(context), f"{context}.{aggregate}.*.*",
            from_sequence=from_sequences.get(source, 1),
        ):
            next_sequences[source] = int(headers["Nats-Sequence"]) + 1
            try:
                recorded = parse_stored(headers, data)
            except PERMANENT:
                report.skipped_invalid += 1
                continue
            if await apply_change(db[target], projection.change_for(recorded), recorded):
                report.applied += 1
    return next_sequences


async def rebuild(nc: Client, db: AsyncDatabase, projection: Projection) -> RebuildReport:
    report = RebuildReport(projection.collection)
    staging = f"{projection.collection}__rebuild"
    await db.drop_collection(staging)
    await db.create_collection(staging)
    upto = await _replay(nc, db, staging, projection, {}, report)
    await db.client.admin.command(
        "renameCollection", f"{db.name}.{staging}", to=f"{db.name}.{projection.collection}",
        dropTarget=True,
    )
    await _replay(nc, db, projection.collection, projection, upto, report)
    log.info("projection.rebuilt", collection=projection.collection, applied=report.applied,
             skipped_invalid=report.skipped_invalid)
    return report

"""Rebuild a read model: replay its sources into a fresh collection, then swap it in.

1. Replay every event of the projection's source aggregates into ``<collection>__rebuild``.
2. Give it the live collection's secondary indexes (reads keep their plans across the swap).
3. Rename it over the live collection (atomic on the server).
4. Catch up: replay what was appended during steps 1–3 into the live collection; positions make
   events the live consumer already applied no-ops.

A rebuild never stops on a bad message: one it cannot use is recorded in the report (and the
log) with the reason, and the replay goes on — an unreadable event of a known aggregate is moved
past as the live consumer does (``projections.skip``); a malformed message, or an event whose
predecessor was never applied, is left out. The live consumer dead-lettered the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nats.aio.client import Client
from pymongo import IndexModel

from .eventstore import read_raw
from .logging import get_logger
from .messaging import PERMANENT, OutOfOrderError, describe
from .mongo import Database
from .projections import Projection, Unreadable, project, read_leniently
from .topology import stream_name

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Skipped:
    subject: str
    sequence: int
    reason: str


@dataclass
class RebuildReport:
    collection: str
    applied: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    indexes: int = 0  # secondary indexes carried over to the rebuilt collection

    @property
    def skipped_invalid(self) -> int:
        return len(self.skipped)

    def skip(self, subject: str, sequence: int, reason: str) -> None:
        self.skipped.append(Skipped(subject, sequence, reason))
        log.warning(
            "projection.rebuild_skipped",
            collection=self.collection,
            subject=subject,
            sequence=sequence,
            reason=reason,
        )


async def _replay(
    nc: Client,
    db: Database,
    target: str,
    projection: Projection,
    from_sequences: dict[str, int],
    report: RebuildReport,
) -> dict[str, int]:
    """Apply the sources' events to ``target``; returns the next sequence per source."""
    next_sequences = dict(from_sequences)
    for source in projection.sources:
        context, aggregate = source.split(".")
        async for headers, data in read_raw(
            nc,
            stream_name(context),
            f"{context}.{aggregate}.*.*",
            from_sequence=from_sequences.get(source, 1),
        ):
            subject, sequence = headers.get("Nats-Subject", ""), int(headers["Nats-Sequence"])
            next_sequences[source] = sequence + 1
            try:
                recorded = read_leniently(headers, subject, data, sequence)
                applied = await project(db[target], projection, recorded)
                if isinstance(recorded.event, Unreadable):
                    report.skip(subject, sequence, describe(recorded.event.error))
                elif applied:
                    report.applied += 1
            except PERMANENT as exc:
                report.skip(subject, sequence, describe(exc))
            except OutOfOrderError as exc:
                report.skip(subject, sequence, f"its predecessor was never applied: {exc}")
    return next_sequences


async def copy_indexes(db: Database, source: str, target: str) -> int:
    """Create ``source``'s secondary indexes (same keys, names and options) on ``target``."""
    models = []
    for name, spec in (await db[source].index_information()).items():
        if name == "_id_":
            continue
        options = {key: value for key, value in spec.items() if key not in ("key", "v", "ns")}
        models.append(IndexModel(spec["key"], name=name, **options))
    if models:
        await db[target].create_indexes(models)
    return len(models)


async def rebuild(nc: Client, db: Database, projection: Projection) -> RebuildReport:
    report = RebuildReport(projection.collection)
    staging = f"{projection.collection}__rebuild"
    await db.drop_collection(staging)
    await db.create_collection(staging)
    upto = await _replay(nc, db, staging, projection, {}, report)
    report.indexes = await copy_indexes(db, projection.collection, staging)
    await db.client.admin.command(
        "renameCollection",
        f"{db.name}.{staging}",
        to=f"{db.name}.{projection.collection}",
        dropTarget=True,
    )
    await _replay(nc, db, projection.collection, projection, upto, report)
    log.info(
        "projection.rebuilt",
        collection=projection.collection,
        applied=report.applied,
        skipped=report.skipped_invalid,
        indexes=report.indexes,
    )
    return report

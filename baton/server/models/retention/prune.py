"""One retention pass: each kind's expired rows deleted in batches, one short write transaction per batch.

A batch selects up to the batch size of expired ids (row-locked on PostgreSQL, skipping rows a request holds, so a
run that changes state meanwhile is rechecked rather than deleted under it) and deletes them with their dependents in
the same transaction. A kind stops when a batch comes back short (nothing more expired) or at `max_batches`, so one
pass is bounded; what is left waits for the next pass. The pass's writes queue with request writes on SQLite (not
ahead of them, as other actors' do), and after each batch it pauses as long as the batch took, so that it holds the
writer (SQLite) or its rows (PostgreSQL) at most half the time and requests waiting meanwhile go first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from baton.server.database.types import utcnow
from baton.server.database.write_lock import mark_deferrable_task
from baton.server.models.retention.kinds import RETENTION_KINDS, RetentionKind, kinds_kept_in

if TYPE_CHECKING:
    from baton.server.database.engine import Database
    from baton.settings import Settings

# The pause after a batch, as a multiple of the batch's own time: 1.0 leaves the writer to requests at least half the
# time (measured in benchmarks/retention.py: the API's p95 during a pass on SQLite).
PAUSE_PER_BATCH_SECOND = 1.0
# The shortest pause, so that a request waiting for the writer takes its turn even after a very quick batch.
MIN_PAUSE_SECONDS = 0.005


@dataclass(frozen=True)
class KindPruned:
    """What a pass did (or, dry, would do) to one kind: `rows` deleted or expired; `days` 0 means kept forever;
    `complete` is False when the pass stopped at its cap with expired rows left."""

    kind: RetentionKind
    days: int
    rows: int
    complete: bool = True


def retention_days(settings: Settings) -> dict[str, int]:
    """Each kind's retention in days as `settings` set it (0: forever)."""
    return {kind.name: int(getattr(settings, kind.setting)) for kind in RETENTION_KINDS}


def _cutoff(now: dt.datetime, days: int) -> dt.datetime:
    return now - dt.timedelta(days=days)


async def count_expired(
    database: Database, days: Mapping[str, int], *, now: dt.datetime | None = None
) -> list[KindPruned]:
    """How many rows of each kind are past their retention (a dry run: nothing is deleted)."""
    now = now or utcnow()
    counted = []
    async with database.read() as connection:
        for kind in kinds_kept_in(database):
            kept = days[kind.name]
            rows = 0
            if kept:
                expired = kind.expired(_cutoff(now, kept)).subquery()
                rows = int(await connection.scalar(sa.select(sa.func.count()).select_from(expired)) or 0)
            counted.append(KindPruned(kind, kept, rows))
    return counted


async def prune_expired(
    database: Database,
    days: Mapping[str, int],
    *,
    batch_size: int,
    max_batches: int,
    now: dt.datetime | None = None,
) -> list[KindPruned]:
    """Delete the rows of each kind past its retention, in batches (see the module docstring); what was deleted."""
    mark_deferrable_task()
    now = now or utcnow()
    pruned = []
    for kind in kinds_kept_in(database):
        kept = days[kind.name]
        if not kept:
            pruned.append(KindPruned(kind, 0, 0))
            continue
        pruned.append(await _prune_kind(database, kind, kept, now, batch_size, max_batches))
    return pruned


async def _prune_kind(
    database: Database, kind: RetentionKind, days: int, now: dt.datetime, batch_size: int, max_batches: int
) -> KindPruned:
    size = max(1, batch_size // kind.rows_per_item)
    query = kind.expired(_cutoff(now, days)).limit(size).with_for_update(skip_locked=True)
    deleted = 0
    for _ in range(max_batches):
        started = time.perf_counter()
        async with database.write() as connection:
            ids = list(await connection.scalars(query))
            if ids:
                deleted += await kind.delete_batch(connection, ids)
        if len(ids) < size:
            return KindPruned(kind, days, deleted)
        await asyncio.sleep(max(MIN_PAUSE_SECONDS, (time.perf_counter() - started) * PAUSE_PER_BATCH_SECOND))
    return KindPruned(kind, days, deleted, complete=False)

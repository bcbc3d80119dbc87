"""Trigger state in the database: the buckets that count events per trigger and key, the events already counted, and
the child firings a compound or sequence trigger holds.

Several services processes may evaluate at once. An evaluation first takes a transaction-scoped lock on each
(trigger, key) it touches, in key order (PostgreSQL advisory locks; SQLite's writers are serialised anyway), then
records the events it counts: an event already counted for a trigger is skipped, so a redelivered batch counts
nothing twice. Buckets are read and written under those locks."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.automations.triggers import Bucket, ChildFiring
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.dialects.base import DatabaseDialect
from baton.server.database.types import utcnow

# The `trigger_id` of counted-event rows: an event is counted once for every trigger of the evaluation that counts it.
COUNTED_MARKER = uuid.UUID(int=0)
# Event ids per query when reading the pairs already counted (well under SQLite's limit of bound parameters).
EVENT_IDS_PER_QUERY = 1000
# What a sweep deletes per statement: a table grown large while the sweep was off is worked off in steps that each
# hold their locks briefly.
SWEEP_BATCH = 1000
DORMANT_OPERATION = "dormant"

TriggerKey = tuple[uuid.UUID, str]


def _lock_key(trigger_id: uuid.UUID, key: str) -> int:
    digest = hashlib.blake2b(trigger_id.bytes + key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_trigger_keys(connection: AsyncConnection, keys: Iterable[TriggerKey]) -> None:
    """Hold, until the transaction ends, a lock on each (trigger id, stored bucketing key): concurrent evaluations of
    the same bucket take turns (PostgreSQL; SQLite's writers take turns anyway)."""
    await dialect_of(connection).lock_keys(connection, [_lock_key(trigger_id, key) for trigger_id, key in keys])


async def count_new_events(connection: AsyncConnection, events: dict[uuid.UUID, uuid.UUID]) -> set[uuid.UUID]:
    """Record each event (id -> the automation of the first trigger it concerns) as counted; return the ids not
    counted before. Call it with the keys of every trigger the events concern locked: the events already counted are
    read first (usually none, so little comes back), and no other evaluation can count them meanwhile.

    An event is counted once for all the triggers of one evaluation, in one row (`trigger_id` COUNTED_MARKER): one
    row per trigger made the row inserts most of an evaluation's cost when many triggers count the same events. The
    row belongs to one of those automations (the column's foreign key); deleting or replacing that automation drops
    it, which only matters to a batch redelivered right then."""
    if not events:
        return set()
    column = t.automation_counted_event.c
    event_ids = sorted(events, key=lambda each: each.int)
    already: set[uuid.UUID] = set()
    for start in range(0, len(event_ids), EVENT_IDS_PER_QUERY):
        query = sa.select(column.event_id).where(
            column.trigger_id == COUNTED_MARKER, column.event_id.in_(event_ids[start : start + EVENT_IDS_PER_QUERY])
        )
        already.update((await connection.execute(query)).scalars())
    new = set(events) - already
    if new:
        now = utcnow()
        rows = [
            {"trigger_id": COUNTED_MARKER, "event_id": event_id, "automation_id": events[event_id], "created": now}
            for event_id in sorted(new, key=lambda each: each.int)
        ]
        insert = dialect_of(connection).insert(t.automation_counted_event)
        await connection.execute(insert.on_conflict_do_nothing(index_elements=["trigger_id", "event_id"]), rows)
    return new


# Statements an evaluation runs for every batch, built once (building them cost more than running them).
_BUCKETS_OF = sa.select(t.automation_bucket).where(
    t.automation_bucket.c.trigger_id.in_(sa.bindparam("trigger_ids", expanding=True)),
    t.automation_bucket.c.bucketing_key.in_(sa.bindparam("keys", expanding=True)),
)
_CURRENT_AUTOMATIONS = (
    sa.select(t.automation.c.id, t.automation.c.updated)
    .where(t.automation.c.id.in_(sa.bindparam("ids", expanding=True)), t.automation.c.enabled.is_(True))
    .order_by(t.automation.c.id)
    .with_for_update(read=True)
)


def _bucket(row: Any) -> Bucket:
    return Bucket(
        start=row["start"],
        end=row["end"],
        count=row["count"],
        last_event=row["last_event"],
        triggered_at=row["triggered_at"],
        dormant=row["last_operation"] == DORMANT_OPERATION,
    )


async def read_buckets(connection: AsyncConnection, keys: Iterable[TriggerKey]) -> dict[TriggerKey, Bucket]:
    """The stored buckets of the given (trigger id, bucketing key) pairs (missing ones are left out)."""
    wanted = set(keys)
    if not wanted:
        return {}
    parameters = {
        "trigger_ids": list({trigger_id for trigger_id, _ in wanted}),
        "keys": list({key for _, key in wanted}),
    }
    found = {}
    for row in (await connection.execute(_BUCKETS_OF, parameters)).mappings():
        pair = (row["trigger_id"], row["bucketing_key"])
        if pair in wanted:
            found[pair] = _bucket(row)
    return found


async def read_due_bucket_keys(
    connection: AsyncConnection, trigger_id: uuid.UUID, as_of: dt.datetime, threshold: int
) -> list[str]:
    """The keys of the trigger's buckets a proactive pass at `as_of` has to look at: windows closed by then, and
    buckets already at the threshold (see `triggers.expire`); dormant ones are left out."""
    column = t.automation_bucket.c
    query = (
        sa.select(column.bucketing_key)
        .where(
            column.trigger_id == trigger_id,
            sa.or_(column.end <= as_of, column.count >= threshold),
            sa.or_(column.last_operation.is_(None), column.last_operation != DORMANT_OPERATION),
        )
        .order_by(column.start)
        .limit(SWEEP_BATCH)
    )
    return list((await connection.execute(query)).scalars())


@dataclass(frozen=True)
class BucketChange:
    """The bucket of (trigger, key) as an evaluation left it; None: it is gone."""

    automation_id: uuid.UUID
    trigger_id: uuid.UUID
    key: str
    labels: dict[str, str]
    bucket: Bucket | None


_BUCKET_STATE = ("start", "end", "count", "last_event", "triggered_at", "last_operation", "updated")


@functools.cache
def _bucket_upsert(dialect: DatabaseDialect) -> sa.Executable:
    """The buckets' upsert on `dialect`, built once (building it cost more than running it)."""
    insert = dialect.insert(t.automation_bucket)
    return insert.on_conflict_do_update(
        index_elements=["trigger_id", "bucketing_key"],
        set_={name: insert.excluded[name] for name in _BUCKET_STATE},
    )


async def save_buckets(connection: AsyncConnection, changes: list[BucketChange]) -> None:
    """Store the buckets as the evaluation left them: one delete for those gone, one upsert for the others."""
    column = t.automation_bucket.c
    gone = [(change.trigger_id, change.key) for change in changes if change.bucket is None]
    if gone:
        await connection.execute(
            sa.delete(t.automation_bucket).where(sa.tuple_(column.trigger_id, column.bucketing_key).in_(gone))
        )
    now = utcnow()
    rows = [
        {
            "id": uuid.uuid4(),
            "created": now,
            "automation_id": change.automation_id,
            "trigger_id": change.trigger_id,
            "bucketing_key": change.key,
            "triggering_labels": change.labels,
            "start": change.bucket.start,
            "end": change.bucket.end,
            "count": change.bucket.count,
            "last_event": change.bucket.last_event,
            "triggered_at": change.bucket.triggered_at,
            "last_operation": DORMANT_OPERATION if change.bucket.dormant else "evaluated",
            "updated": now,
        }
        for change in changes
        if change.bucket is not None
    ]
    if rows:
        await connection.execute(_bucket_upsert(dialect_of(connection)), rows)


async def sweep_expired_buckets(connection: AsyncConnection, older_than: dt.datetime) -> int:
    """Delete up to SWEEP_BATCH buckets whose window ended before `older_than`; how many."""
    column = t.automation_bucket.c
    expired = sa.select(column.id).where(column.end < older_than).limit(SWEEP_BATCH)
    result = await connection.execute(sa.delete(t.automation_bucket).where(column.id.in_(expired)))
    return result.rowcount


async def sweep_counted_events(connection: AsyncConnection, older_than: dt.datetime) -> int:
    """Delete up to SWEEP_BATCH counted events recorded before `older_than`; how many."""
    column = t.automation_counted_event.c
    old = (
        sa.select(column.trigger_id, column.event_id)
        .where(column.created < older_than)
        .order_by(column.created)
        .limit(SWEEP_BATCH)
        .subquery()
    )
    result = await connection.execute(
        sa.delete(t.automation_counted_event).where(
            sa.tuple_(column.trigger_id, column.event_id).in_(sa.select(old.c.trigger_id, old.c.event_id))
        )
    )
    return result.rowcount


# --- composite triggers -----------------------------------------------------------------------------------------------


async def lock_composite_trigger(connection: AsyncConnection, parent_trigger_id: uuid.UUID) -> None:
    """Children of one composite trigger firing at once take turns deciding whether the parent fires."""
    await lock_trigger_keys(connection, [(parent_trigger_id, "composite")])


async def hold_child_firing(
    connection: AsyncConnection,
    automation_id: uuid.UUID,
    parent_trigger_id: uuid.UUID,
    firing: ChildFiring,
    details: dict[str, Any],
) -> None:
    """Hold the child's latest firing for its parent (a child that fires again replaces its earlier firing)."""
    now = utcnow()
    values = {
        "child_firing_id": uuid.uuid5(uuid.NAMESPACE_URL, firing.firing_key),
        "child_fired_at": firing.fired_at,
        "child_firing": {**details, "firing_key": firing.firing_key},
        "updated": now,
    }
    insert = dialect_of(connection).insert(t.composite_trigger_child_firing)
    await connection.execute(
        insert.values(
            id=uuid.uuid4(),
            created=now,
            automation_id=automation_id,
            parent_trigger_id=parent_trigger_id,
            child_trigger_id=firing.child_trigger_id,
            **values,
        ).on_conflict_do_update(index_elements=["parent_trigger_id", "child_trigger_id"], set_=values)
    )


async def read_child_firings(
    connection: AsyncConnection, parent_trigger_id: uuid.UUID, since: dt.datetime | None
) -> list[tuple[ChildFiring, dict[str, Any]]]:
    """The child firings held for the parent, with their details; those before `since` are dropped first."""
    column = t.composite_trigger_child_firing.c
    if since is not None:
        await connection.execute(
            sa.delete(t.composite_trigger_child_firing).where(
                column.parent_trigger_id == parent_trigger_id, column.child_fired_at < since
            )
        )
    query = (
        sa.select(t.composite_trigger_child_firing)
        .where(column.parent_trigger_id == parent_trigger_id)
        .order_by(column.child_fired_at)
    )
    return [
        (
            ChildFiring(row["child_trigger_id"], row["child_fired_at"], row["child_firing"]["firing_key"]),
            row["child_firing"],
        )
        for row in (await connection.execute(query)).mappings()
    ]


async def clear_child_firings(connection: AsyncConnection, parent_trigger_id: uuid.UUID) -> None:
    """The parent fired: its children start over."""
    column = t.composite_trigger_child_firing.c
    await connection.execute(
        sa.delete(t.composite_trigger_child_firing).where(column.parent_trigger_id == parent_trigger_id)
    )


# --- the automations the engine evaluates -----------------------------------------------------------------------------


async def read_enabled_automation_versions(connection: AsyncConnection) -> dict[uuid.UUID, dt.datetime]:
    """Each enabled automation's id and last change: a cheap check that the engine's loaded automations are current."""
    column = t.automation.c
    query = sa.select(column.id, column.updated).where(column.enabled.is_(True))
    return {row[0]: row[1] for row in (await connection.execute(query)).all()}


async def lock_current_automations(
    connection: AsyncConnection, versions: dict[uuid.UUID, dt.datetime]
) -> set[uuid.UUID]:
    """Of the automations given with the version (`updated`) the engine loaded, those still enabled at that version,
    share-locked until the transaction ends (PostgreSQL): a disable, replace or delete waits for the evaluation, and
    an evaluation never counts for a trigger that a replace just dropped."""
    if not versions:
        return set()
    rows = (await connection.execute(_CURRENT_AUTOMATIONS, {"ids": list(versions)})).all()
    return {row[0] for row in rows if row[1] == versions[row[0]]}


async def read_automation_for_firing(connection: AsyncConnection, automation_id: uuid.UUID) -> dict[str, Any] | None:
    """The automation's row if it is enabled, locked until the transaction ends so that a concurrent disable or
    replace waits for the firing (PostgreSQL); None when it is disabled or gone."""
    column = t.automation.c
    query = (
        sa.select(t.automation).where(column.id == automation_id, column.enabled.is_(True)).with_for_update(read=True)
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None

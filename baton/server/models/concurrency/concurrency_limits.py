"""Data access for global (v2) concurrency limits: create, read, update, delete, and taking and returning slots.

Slot counts change only under a row lock: every function that changes them first reads the limit rows with
SELECT ... FOR UPDATE, in id order (so two transactions never wait on each other in a cycle), then writes the new
counts. On SQLite, FOR UPDATE compiles to nothing and the write unit of work already serialises writers, so the same
code is atomic on both databases, and a limit of N never has more than N slots taken. The decisions themselves
(`decide_slots`, `returned_slots`) are pure functions of the locked rows, so that `concurrency_lease_batches` can
make many of them in one transaction.

Decay: a rate limit (`slot_decay_per_second` > 0) gives back that many slots per second; denied slots (the queue
of callers that were refused, used to tell them how long to wait) decay at the same rate, or for a plain concurrency
limit at one per average occupancy. The `updated` column is the decay clock.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists, ValidationFailed
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow
from baton.server.schemas.concurrency import ConcurrencyLimitV2Create, ConcurrencyLimitV2Update, SlotMode

TAG_PREFIX = "tag:"
# The longest a refused caller is told to wait for a `tag:*` limit, and for any other limit without decay (Prefect's
# defaults for PREFECT_SERVER_TASKS_TAG_CONCURRENCY_SLOT_WAIT_SECONDS and ..._MAXIMUM_CONCURRENCY_SLOT_WAIT_SECONDS).
TAG_SLOT_WAIT_SECONDS = 10.0
MAX_SLOT_WAIT_SECONDS = 30.0
# The average occupancy is a moving average over about this many samples per slot of the limit.
OCCUPANCY_SAMPLES_PER_SLOT = 2
# A floor for the average occupancy, so that a burst of instant releases cannot make it (or a wait) zero.
MIN_OCCUPANCY_SECONDS = 0.1
# Retry-After is spread by up to this fraction either way, so that refused callers do not all return at once.
RETRY_JITTER = 0.25
MIN_RETRY_AFTER_SECONDS = 0.05

Row = dict[str, Any]
limit_table = t.concurrency_limit_v2


@dataclass
class SlotCounts:
    """A limit's counters as of a moment, after decay, and the decay clock to store with them."""

    active: int
    denied: int
    clock: dt.datetime


@dataclass
class SlotRequest:
    """The outcome of `take_slots`: every limit named (inactive ones too), whether the slots were taken, the ids of
    the limits they were taken on, and, when refused, how long the caller should wait."""

    limits: list[Row]
    acquired: bool
    taken_on: list[uuid.UUID]
    retry_after_seconds: float = 0.0


# --- create, read, update, delete -----------------------------------------------------------------------------------


async def create_concurrency_limit(connection: AsyncConnection, limit: ConcurrencyLimitV2Create) -> Row:
    """Insert the limit and return its row; raises ObjectAlreadyExists when the name is taken."""
    now = utcnow()
    row = {"id": uuid.uuid4(), "created": now, "updated": now, "avg_slot_occupancy_seconds": 2.0, **limit.model_dump()}
    insert = dialect_of(connection).insert(limit_table).values(**row).on_conflict_do_nothing(index_elements=["name"])
    if (await connection.execute(insert)).rowcount != 1:
        raise ObjectAlreadyExists(f"A concurrency limit named {limit.name!r} already exists.")
    return row


async def read_concurrency_limit(connection: AsyncConnection, id_or_name: uuid.UUID | str) -> Row | None:
    """The limit with that id (a UUID) or name (a string), with its slot counts as stored; None if there is none."""
    row = (await connection.execute(sa.select(limit_table).where(_which(id_or_name)))).mappings().first()
    return dict(row) if row else None


async def read_concurrency_limits(
    connection: AsyncConnection, limit: int, offset: int, *, name_prefix: str | None = None
) -> list[Row]:
    """A page of limits sorted by name, optionally only those whose name starts with `name_prefix`."""
    query = sa.select(limit_table).order_by(limit_table.c.name).limit(limit).offset(offset)
    if name_prefix is not None:
        query = query.where(limit_table.c.name.startswith(name_prefix, autoescape=True))
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def update_concurrency_limit(
    connection: AsyncConnection, id_or_name: uuid.UUID | str, update: ConcurrencyLimitV2Update
) -> bool:
    """Apply the fields set in `update`; False when there is no such limit, ObjectAlreadyExists on a name clash."""
    values = {key: value for key, value in update.model_dump(exclude_unset=True).items() if value is not None}
    limit_id = await connection.scalar(sa.select(limit_table.c.id).where(_which(id_or_name)).with_for_update())
    if limit_id is None:
        return False
    if "name" in values:
        clash = sa.select(limit_table.c.id).where(limit_table.c.name == values["name"], limit_table.c.id != limit_id)
        if await connection.scalar(clash) is not None:
            raise ObjectAlreadyExists(f"A concurrency limit named {values['name']!r} already exists.")
    await connection.execute(
        sa.update(limit_table).where(limit_table.c.id == limit_id).values(updated=utcnow(), **values)
    )
    return True


async def delete_concurrency_limit(connection: AsyncConnection, id_or_name: uuid.UUID | str) -> bool:
    """Delete the limit and the leases' links to it; False when there is no such limit."""
    result = await connection.execute(sa.delete(limit_table).where(_which(id_or_name)))
    return result.rowcount == 1


def with_decayed_slots(row: Row, now: dt.datetime | None = None) -> Row:
    """`row` with `active_slots` and `denied_slots` as they are at `now`, after decay."""
    counts = slot_counts(row, now or utcnow())
    return {**row, "active_slots": counts.active, "denied_slots": counts.denied}


# --- slots ----------------------------------------------------------------------------------------------------------


def slot_counts(row: Row, now: dt.datetime) -> SlotCounts:
    """The limit's active and denied slots at `now`, after decay, and the decay clock that goes with them.

    The clock moves forward only by the whole slots that decayed, so that frequent writes do not lose the fractions
    (which would stop decay altogether if writes came faster than one slot's worth of time).
    """
    active, denied, clock = row["active_slots"], row["denied_slots"], row["updated"]
    elapsed = max((now - clock).total_seconds(), 0.0)
    decay = row["slot_decay_per_second"]
    rate = decay if decay > 0 else 1.0 / _clamped_occupancy(row)
    # Never more than the slots there are to decay: a huge stored rate (or a long pause) would otherwise make
    # `rate * elapsed` infinite, and floor(inf) raises.
    most = max(active, denied) if decay > 0 else denied
    budget = rate * elapsed
    decayed = most if budget >= most else math.floor(budget)
    if decayed:
        if decay > 0:
            active = max(active - decayed, 0)
        denied = max(denied - decayed, 0)
        clock = clock + dt.timedelta(seconds=decayed / rate)
    if denied == 0 and (active == 0 or decay == 0):
        clock = now  # nothing left to decay: start counting afresh
    return SlotCounts(active, denied, clock)


async def lock_limits(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> list[Row]:
    """The limits matching `condition`, locked for this transaction, in id order."""
    # FOR NO KEY UPDATE on PostgreSQL: as strong as the UPDATE that follows, and it does not block the key-share
    # locks that inserting a lease's links takes on the limit.
    query = sa.select(limit_table).where(condition).order_by(limit_table.c.id).with_for_update(key_share=True)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def check_slots(
    connection: AsyncConnection, names: Sequence[str], slots: int, mode: SlotMode, now: dt.datetime | None = None
) -> SlotRequest:
    """Whether `take_slots` would take the slots now, read without locking or writing anything.

    Under contention most requests find a limit full; answering those from a read keeps them from queueing for the
    write lock (on SQLite, the one writer) that the holders need to give their slots back. A refusal found here is
    not recorded as denied slots; `take_slots` decides for certain, under the lock. Raises as `take_slots` does.
    """
    query = sa.select(limit_table).where(limit_table.c.name.in_(set(names)))
    rows = [dict(row) for row in (await connection.execute(query)).mappings()]
    active, counts, acquired = _evaluate(rows, slots, mode, now or utcnow())
    if acquired:
        return SlotRequest(rows, True, [row["id"] for row in active])
    decayed = [{**row, "denied_slots": counts[row["id"]].denied} for row in active]
    return SlotRequest(rows, False, [], _retry_after(decayed, slots))


async def take_slots(
    connection: AsyncConnection, names: Sequence[str], slots: int, mode: SlotMode, now: dt.datetime | None = None
) -> SlotRequest:
    """Take `slots` on every active limit named, all or none; names without a limit and inactive limits are skipped.

    A refusal is recorded (denied slots) and returned, not raised, so that the caller's transaction commits it.
    Raises ValidationFailed when a limit is smaller than `slots`, or for `rate_limit` on a limit without decay.
    """
    now = now or utcnow()
    rows = await lock_limits(connection, limit_table.c.name.in_(set(names)))
    request, counts = decide_slots(rows, slots, mode, now)
    for row in rows:
        if row["id"] in counts:
            row.update(_stored_counts(counts[row["id"]]))
    await store_slot_counts(connection, [row for row in rows if row["id"] in counts])
    return request


def decide_slots(
    rows: list[Row], slots: int, mode: SlotMode, now: dt.datetime
) -> tuple[SlotRequest, dict[uuid.UUID, SlotCounts]]:
    """Whether `slots` more fit on every active limit among `rows` (which the caller holds locked), and the counts
    each active limit has after it: the slots added when they fit, else the slots added to the denied ones.

    Raises ValidationFailed when a limit is smaller than `slots`, or for `rate_limit` on a limit without decay.
    """
    active, counts, acquired = _evaluate(rows, slots, mode, now)
    taken, denied = (slots, 0) if acquired else (0, slots)
    after = {
        limit_id: SlotCounts(count.active + taken, count.denied + denied, count.clock)
        for limit_id, count in counts.items()
    }
    if acquired:
        return SlotRequest(rows, True, [row["id"] for row in active]), after
    decayed = [{**row, "denied_slots": counts[row["id"]].denied} for row in active]
    return SlotRequest(rows, False, [], _retry_after(decayed, slots)), after


async def store_slot_counts(connection: AsyncConnection, rows: Sequence[Row]) -> None:
    """Write the slot counts, decay clock and average occupancy of `rows` (limits the caller holds locked)."""
    if not rows:
        return
    statement = (
        sa.update(limit_table)
        .where(limit_table.c.id == sa.bindparam("b_id"))
        .values(
            active_slots=sa.bindparam("b_active"),
            denied_slots=sa.bindparam("b_denied"),
            updated=sa.bindparam("b_clock"),
            avg_slot_occupancy_seconds=sa.bindparam("b_occupancy"),
        )
    )
    values = [
        {
            "b_id": row["id"],
            "b_active": row["active_slots"],
            "b_denied": row["denied_slots"],
            "b_clock": row["updated"],
            "b_occupancy": row["avg_slot_occupancy_seconds"],
        }
        for row in rows
    ]
    await connection.execute(statement, values[0] if len(values) == 1 else values)


def _stored_counts(counts: SlotCounts) -> Row:
    return {"active_slots": counts.active, "denied_slots": counts.denied, "updated": counts.clock}


def _evaluate(
    rows: list[Row], slots: int, mode: SlotMode, now: dt.datetime
) -> tuple[list[Row], dict[uuid.UUID, SlotCounts], bool]:
    """The active limits among `rows`, their counts at `now`, and whether `slots` more fit on every one."""
    active = [row for row in rows if row["active"]]
    if any(row["limit"] < slots for row in active):
        raise ValidationFailed("Slots requested is greater than the limit")
    if mode == "rate_limit":
        without_decay = [row["name"] for row in active if row["slot_decay_per_second"] == 0]
        if without_decay:
            raise ValidationFailed(
                "Only concurrency limits with slot decay can be used for rate limiting. The following limits do not "
                f"have a decay configured: {', '.join(without_decay)!r}"
            )
    counts = {row["id"]: slot_counts(row, now) for row in active}
    return active, counts, all(counts[row["id"]].active + slots <= row["limit"] for row in active)


async def return_slots(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    slots: int | dict[uuid.UUID, int],
    occupancy_seconds: float | None = None,
    now: dt.datetime | None = None,
) -> list[Row]:
    """Give back slots on the active limits matching `condition` (never below zero); returns every limit matched.

    `slots` is one count for all, or a count per limit id. `occupancy_seconds`, when given, is how long the slots
    were held; it feeds the limit's average occupancy, from which refused callers' waits are computed.
    """
    now = now or utcnow()
    rows = await lock_limits(connection, condition)
    changed = []
    for row in rows:
        count = slots if isinstance(slots, int) else slots.get(row["id"], 0)
        if not row["active"] or count <= 0:
            continue
        changed.append({**row, **returned_slots(row, count, occupancy_seconds, now)})
    await store_slot_counts(connection, changed)
    return rows


async def return_named_slots(
    connection: AsyncConnection, names: Sequence[str], slots: int, occupancy_seconds: float | None = None
) -> list[Row]:
    """`return_slots` on the limits called `names`."""
    return await return_slots(connection, names_condition(names), slots, occupancy_seconds)


def returned_slots(row: Row, count: int, occupancy_seconds: float | None, now: dt.datetime) -> Row:
    """The counts of the limit `row` (active, with `count` > 0) after giving back `count` slots at `now`: its active,
    denied and average occupancy columns and the decay clock."""
    current = slot_counts(row, now)
    values: Row = {
        "active_slots": max(current.active - count, 0),
        "denied_slots": current.denied,
        "updated": current.clock,
        "avg_slot_occupancy_seconds": row["avg_slot_occupancy_seconds"],
    }
    if occupancy_seconds:
        per_slot = max(occupancy_seconds / count, MIN_OCCUPANCY_SECONDS)
        samples = max(row["limit"], 1) * OCCUPANCY_SAMPLES_PER_SLOT
        average = row["avg_slot_occupancy_seconds"]
        values["avg_slot_occupancy_seconds"] = average + (per_slot - average) / samples
    return values


def names_condition(names: Sequence[str]) -> sa.ColumnElement[bool]:
    return limit_table.c.name.in_(set(names))


def ids_condition(ids: Sequence[uuid.UUID]) -> sa.ColumnElement[bool]:
    return limit_table.c.id.in_(set(ids))


# --- helpers --------------------------------------------------------------------------------------------------------


def _which(id_or_name: uuid.UUID | str) -> sa.ColumnElement[bool]:
    if isinstance(id_or_name, uuid.UUID):
        return limit_table.c.id == id_or_name
    return limit_table.c.name == id_or_name


def _max_wait(row: Row) -> float:
    return TAG_SLOT_WAIT_SECONDS if row["name"].startswith(TAG_PREFIX) else MAX_SLOT_WAIT_SECONDS


def _clamped_occupancy(row: Row) -> float:
    return max(MIN_OCCUPANCY_SECONDS, min(row["avg_slot_occupancy_seconds"], _max_wait(row)))


def _retry_after(active: list[Row], slots: int) -> float:
    """Seconds a refused caller should wait: long enough for the queue in front of it on the most crowded limit to
    drain (at the decay rate, or at the average occupancy capped by the wait limit), spread by a little jitter."""

    def queue(row: Row) -> float:
        waiting = slots + row["denied_slots"]
        return waiting if row["slot_decay_per_second"] > 0 else waiting / max(row["limit"], 1)

    blocking = max(active, key=queue)
    if blocking["slot_decay_per_second"] > 0:
        interval = queue(blocking) / blocking["slot_decay_per_second"]
    else:
        interval = min(_clamped_occupancy(blocking) * queue(blocking), _max_wait(blocking))
    jittered = interval * random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    return max(jittered, MIN_RETRY_AFTER_SECONDS)

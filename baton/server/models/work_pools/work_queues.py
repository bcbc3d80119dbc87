"""Data access for the work queues of a pool: create and reprioritise, read, update, delete, record polls.

Priorities in a pool are distinct integers from 1 (the highest). Giving a queue a priority another queue holds moves
that queue (and those behind it, as far as needed) one step down, as Prefect does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import InvalidTransition, ObjectAlreadyExists, ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.deployments.deployment_polls import mark_deployments_polled
from baton.server.models.deployments.deployment_queues import DEFAULT_AGENT_POOL_NAME, ensure_default_agent_pool
from baton.server.models.events import status_events
from baton.server.models.events.status_events import Event
from baton.server.models.filters.core import work_queue_condition
from baton.server.models.work_pools.work_pools import count_active_slots
from baton.server.schemas.work_pools import (
    DEFAULT_QUEUE_NAME,
    LegacyWorkQueueFilterRequest,
    WorkQueueCreate,
    WorkQueueFilterRequest,
    WorkQueueStatus,
    WorkQueueUpdate,
)
from baton.states import LATE

Row = dict[str, Any]

# A resumed queue polled this recently is READY at once (Prefect's fixed value), else NOT_READY until its next poll.
RECENT_POLL = dt.timedelta(seconds=60)

# Queue columns plus the name of the pool, as the API returns a queue.
QUEUE_COLUMNS = [*t.work_queue.c, t.work_pool.c.name.label("work_pool_name")]
QUEUE_FROM = t.work_queue.join(t.work_pool, t.work_pool.c.id == t.work_queue.c.work_pool_id)


def select_work_queues() -> sa.Select[Any]:
    return sa.select(*QUEUE_COLUMNS).select_from(QUEUE_FROM)


async def create_work_queue(connection: AsyncConnection, pool_id: uuid.UUID, queue: WorkQueueCreate) -> Row:
    """Insert a queue in the pool: without a priority it takes the first free one, with one it takes that one and
    moves the others down as needed. ObjectAlreadyExists when the pool has a queue of that name."""
    if await _queue_id(connection, pool_id, queue.name) is not None:
        raise ObjectAlreadyExists(f"A work queue named {queue.name!r} already exists in this work pool.")
    priorities = sorted(
        (await connection.execute(sa.select(t.work_queue.c.priority).where(t.work_queue.c.work_pool_id == pool_id)))
        .scalars()
        .all()
    )
    free = next((index + 1 for index, taken in enumerate(priorities) if taken != index + 1), len(priorities) + 1)
    now = utcnow()
    queue_id = uuid.uuid4()
    await connection.execute(
        t.work_queue.insert().values(
            id=queue_id,
            created=now,
            updated=now,
            name=queue.name,
            description=queue.description or "",
            is_paused=queue.is_paused,
            concurrency_limit=queue.concurrency_limit,
            priority=free,
            filter=queue.filter,
            status=WorkQueueStatus.PAUSED if queue.is_paused else WorkQueueStatus.NOT_READY,
            work_pool_id=pool_id,
        )
    )
    if queue.priority is not None and queue.priority != free:
        await _set_priority(connection, pool_id, queue_id, queue.priority)
    row = await read_work_queue(connection, queue_id)
    assert row is not None
    return row


async def create_work_queue_without_pool(connection: AsyncConnection, queue: WorkQueueCreate) -> Row:
    """A queue made without naming a pool goes to `default-agent-pool`, created when missing (as Prefect does); when
    that creation made the pool, a queue named `default` is the pool's own. ObjectAlreadyExists when the pool has a
    queue of that name."""
    existed = await _pool_id_named(connection, DEFAULT_AGENT_POOL_NAME) is not None
    pool = await ensure_default_agent_pool(connection)
    if not existed and queue.name == DEFAULT_QUEUE_NAME:
        row = await read_work_queue(connection, pool["default_queue_id"])
        assert row is not None
        return row
    return await create_work_queue(connection, pool["id"], queue)


async def _pool_id_named(connection: AsyncConnection, name: str) -> uuid.UUID | None:
    return await connection.scalar(sa.select(t.work_pool.c.id).where(t.work_pool.c.name == name))


async def _set_priority(connection: AsyncConnection, pool_id: uuid.UUID, queue_id: uuid.UUID, priority: int) -> None:
    """Give the queue `priority`, keeping the order of the others and moving down only those in the way."""
    rows = (
        await connection.execute(
            sa.select(t.work_queue.c.id, t.work_queue.c.priority)
            .where(t.work_queue.c.work_pool_id == pool_id)
            .order_by(t.work_queue.c.priority)
        )
    ).all()
    others = [(row.id, row.priority) for row in rows if row.id != queue_id]
    position = next((index for index, (_, taken) in enumerate(others) if taken >= priority), len(others))
    ordered = [*others[:position], (queue_id, priority), *others[position:]]
    last = 0
    before = {row.id: row.priority for row in rows}
    for current_id, current in ordered:
        wanted = current if current > last else last + 1
        last = wanted
        if wanted != before[current_id]:
            await connection.execute(
                sa.update(t.work_queue).where(t.work_queue.c.id == current_id).values(priority=wanted, updated=utcnow())
            )


async def _queue_id(connection: AsyncConnection, pool_id: uuid.UUID, name: str) -> uuid.UUID | None:
    return await connection.scalar(
        sa.select(t.work_queue.c.id).where(t.work_queue.c.work_pool_id == pool_id, t.work_queue.c.name == name)
    )


async def read_work_queue(connection: AsyncConnection, queue_id: uuid.UUID) -> Row | None:
    row = (await connection.execute(select_work_queues().where(t.work_queue.c.id == queue_id))).mappings().first()
    return dict(row) if row else None


async def read_work_queue_by_name(connection: AsyncConnection, pool_id: uuid.UUID, name: str) -> Row | None:
    query = select_work_queues().where(t.work_queue.c.work_pool_id == pool_id, t.work_queue.c.name == name)
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_work_queue_or_404(connection: AsyncConnection, pool: Row, name: str) -> Row:
    row = await read_work_queue_by_name(connection, pool["id"], name)
    if row is None:
        raise ObjectNotFound(f"Work pool queue '{pool['name']}/{name}' not found.")
    return row


async def read_work_queues(
    connection: AsyncConnection,
    condition: sa.ColumnElement[bool],
    limit: int | None = None,
    offset: int = 0,
) -> list[Row]:
    """Queues matching `condition`, highest priority first (then by name)."""
    query = select_work_queues().where(condition).order_by(t.work_queue.c.priority, t.work_queue.c.name)
    query = query.limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def read_work_queue_by_id_or_404(connection: AsyncConnection, queue_id: uuid.UUID) -> Row:
    """The queue with the id `queue_id` (with its pool's name); ObjectNotFound when there is none."""
    row = await read_work_queue(connection, queue_id)
    if row is None:
        raise ObjectNotFound(f"Work queue {queue_id} not found.")
    return row


async def read_work_queue_in_pool_named(connection: AsyncConnection, name: str, pool_name: str | None) -> Row | None:
    """A queue called `name` in the pool called `pool_name` (in any pool when it is None or empty); None when there
    is none."""
    condition = t.work_queue.c.name == name
    if pool_name:
        condition = condition & (t.work_pool.c.name == pool_name)
    rows = await read_work_queues(connection, condition, 1)
    return rows[0] if rows else None


async def read_work_queues_of_pool(connection: AsyncConnection, pool_id: uuid.UUID) -> list[Row]:
    """Every queue of the pool, highest priority first."""
    return await read_work_queues(connection, t.work_queue.c.work_pool_id == pool_id)


async def filter_work_queues_of_pool(
    connection: AsyncConnection, pool_id: uuid.UUID, request: WorkQueueFilterRequest, limit: int, offset: int
) -> list[Row]:
    """The pool's queues matching the filter of `request` as API bodies, highest priority first."""
    condition = work_queue_condition(request.work_queues) & (t.work_queue.c.work_pool_id == pool_id)
    return await queue_responses(connection, await read_work_queues(connection, condition, limit, offset))


async def filter_work_queues(
    connection: AsyncConnection, request: LegacyWorkQueueFilterRequest, limit: int, offset: int
) -> list[Row]:
    """The queues matching the filter of `request` (in its pool only, when it names one) as API bodies."""
    condition = work_queue_condition(request.work_queues)
    if request.work_pool_name:
        condition = condition & (t.work_pool.c.name == request.work_pool_name)
    return await queue_responses(connection, await read_work_queues(connection, condition, limit, offset))


async def count_late_runs(connection: AsyncConnection, queue_id: uuid.UUID) -> int:
    """How many runs of the queue are in a Late state."""
    query = (
        sa.select(sa.func.count())
        .select_from(t.flow_run)
        .where(t.flow_run.c.work_queue_id == queue_id, t.flow_run.c.state_name == LATE)
    )
    return int(await connection.scalar(query) or 0)


def work_queue_response(row: Row, busy: dict[Any, int] | None = None) -> Row:
    """The API's WorkQueue (with its pool's name): `active_slots` only when the queue has a concurrency limit."""
    body = dict(row)
    body["active_slots"] = None if row["concurrency_limit"] is None else (busy or {}).get(row["id"], 0)
    return body


async def queue_responses(connection: AsyncConnection, rows: list[Row]) -> list[Row]:
    """The queues `rows` as API bodies, with the slots their runs hold."""
    limited = list({row["work_pool_id"] for row in rows if row["concurrency_limit"] is not None})
    _, busy = await count_active_slots(connection, limited)
    return [work_queue_response(row, busy) for row in rows]


async def update_work_queue(connection: AsyncConnection, queue: Row, update: WorkQueueUpdate) -> list[Event]:
    """Apply the fields set in `update`; a new priority moves other queues down as on creation, a new name must be
    free in the pool. Pausing makes the queue PAUSED; resuming a paused queue makes it READY when it was polled in
    the last RECENT_POLL, else NOT_READY (until its next poll). A status that changes writes its
    `prefect.work-queue.<status>` event, returned."""
    values = update.model_dump(mode="json", exclude_unset=True)
    name = values.get("name")
    if name is not None and name != queue["name"]:
        if await _queue_id(connection, queue["work_pool_id"], name) is not None:
            raise ObjectAlreadyExists(f"A work queue named {name!r} already exists in this work pool.")
    priority = values.pop("priority", None)
    now = utcnow()
    if values.get("is_paused") is True and queue["status"] != WorkQueueStatus.PAUSED:
        values["status"] = WorkQueueStatus.PAUSED.value
    elif values.get("is_paused") is False and queue["status"] == WorkQueueStatus.PAUSED:
        last_polled = update.last_polled if "last_polled" in values else queue["last_polled"]
        if last_polled is not None and last_polled.tzinfo is None:
            last_polled = last_polled.replace(tzinfo=dt.UTC)
        recent = last_polled is not None and now - last_polled <= RECENT_POLL
        values["status"] = (WorkQueueStatus.READY if recent else WorkQueueStatus.NOT_READY).value
    if "last_polled" in values:
        values["last_polled"] = update.last_polled
    if values:
        await connection.execute(
            sa.update(t.work_queue).where(t.work_queue.c.id == queue["id"]).values(updated=now, **values)
        )
    if priority is not None and priority != queue["priority"]:
        await _set_priority(connection, queue["work_pool_id"], queue["id"], priority)
    if "status" not in values:
        return []
    changed = {"id": queue["id"], "name": values.get("name") or queue["name"], "work_pool_id": queue["work_pool_id"]}
    events = await status_events.work_queue_status_events(connection, [changed], values["status"], now)
    return await status_events.record_status_events(connection, events)


async def delete_work_queue(connection: AsyncConnection, pool: Row, queue: Row) -> None:
    """Delete the queue; its runs and deployments move to the pool's default queue. The default queue itself
    cannot be deleted (InvalidTransition)."""
    if queue["id"] == pool["default_queue_id"]:
        raise InvalidTransition(f"The default queue of work pool {pool['name']!r} cannot be deleted.")
    moved = {"work_queue_id": pool["default_queue_id"]}
    await connection.execute(sa.update(t.flow_run).where(t.flow_run.c.work_queue_id == queue["id"]).values(moved))
    await connection.execute(sa.update(t.deployment).where(t.deployment.c.work_queue_id == queue["id"]).values(moved))
    await connection.execute(sa.delete(t.work_queue).where(t.work_queue.c.id == queue["id"]))


async def record_polls(connection: AsyncConnection, queue_ids: list[uuid.UUID], now: dt.datetime) -> list[Event]:
    """A worker polled these queues: they and their deployments are READY (paused queues stay PAUSED). Returns the
    status events written for those that were not ready.

    This runs on every poll, so the common case (nothing changes status) is the two UPDATEs it always was, of the
    queues and of their deployments (`mark_deployments_polled`); each returns the rows' statuses, which it leaves
    alone (the rows are locked by then, so they are current); only rows found not ready get a second, guarded
    UPDATE."""
    if not queue_ids:
        return []
    queue = t.work_queue.c
    polled = await connection.execute(
        sa.update(t.work_queue)
        .where(queue.id.in_(queue_ids))
        .values(last_polled=now)
        .returning(queue.id, queue.status, queue.is_paused)
    )
    unready_queues = [row.id for row in polled if row.status == WorkQueueStatus.NOT_READY and not row.is_paused]
    events: list[Event] = []
    if unready_queues:
        ready = await connection.execute(
            sa.update(t.work_queue)
            .where(queue.id.in_(unready_queues), queue.status == WorkQueueStatus.NOT_READY.value)
            .values(status=WorkQueueStatus.READY.value)
            .returning(queue.id, queue.name, queue.work_pool_id)
        )
        rows = [dict(row) for row in ready.mappings()]
        events += await status_events.work_queue_status_events(connection, rows, WorkQueueStatus.READY.value, now)
    events += await mark_deployments_polled(connection, t.deployment.c.work_queue_id.in_(queue_ids), now)
    return await status_events.record_status_events(connection, events)

"""Data access for work pools: create (with the pool's default queue), read, update, delete, count busy slots."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectAlreadyExists, ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.events import status_events
from baton.server.models.events.status_events import Event
from baton.server.models.filters.core import work_pool_condition
from baton.server.schemas.work_pools import (
    DEFAULT_QUEUE_NAME,
    WorkPoolCreate,
    WorkPoolFilterRequest,
    WorkPoolStatus,
    WorkPoolUpdate,
    WorkQueueStatus,
)

# Runs in these states hold a slot of their work pool's and work queue's concurrency limits.
SLOT_HOLDING_STATE_TYPES = ("PENDING", "RUNNING", "CANCELLING")

Row = dict[str, Any]


async def create_work_pool(connection: AsyncConnection, pool: WorkPoolCreate) -> tuple[Row, list[Event]]:
    """Insert the pool and its `default` queue (priority 1), and the pool's first status event (`.not-ready`, or
    `.paused` for a pool created paused), as Prefect's server emits on creation. Returns the pool and the events
    written; ObjectAlreadyExists when the name is taken."""
    taken = await connection.scalar(sa.select(t.work_pool.c.id).where(t.work_pool.c.name == pool.name))
    if taken is not None:
        raise ObjectAlreadyExists(f"A work pool named {pool.name!r} already exists.")
    now = utcnow()
    pool_id, queue_id, event_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    status = WorkPoolStatus.PAUSED if pool.is_paused else WorkPoolStatus.NOT_READY
    await connection.execute(
        t.work_pool.insert().values(
            id=pool_id,
            created=now,
            updated=now,
            name=pool.name,
            description=pool.description,
            type=pool.type,
            base_job_template=pool.base_job_template,
            is_paused=pool.is_paused,
            concurrency_limit=pool.concurrency_limit,
            status=status,
            last_status_event_id=event_id,
            last_transitioned_status_at=now,
            storage_configuration=pool.storage_configuration.model_dump(mode="json"),
            default_queue_id=queue_id,
        )
    )
    await connection.execute(
        t.work_queue.insert().values(
            id=queue_id,
            created=now,
            updated=now,
            name=DEFAULT_QUEUE_NAME,
            description="The work pool's default queue.",
            is_paused=False,
            priority=1,
            status=WorkQueueStatus.NOT_READY,
            work_pool_id=pool_id,
        )
    )
    row = await read_work_pool(connection, pool_id)
    assert row is not None
    event = status_events.work_pool_status_event(row, status.value, event_id, now, None)
    return row, await status_events.record_status_events(connection, [event])


async def read_work_pool(connection: AsyncConnection, pool_id: uuid.UUID) -> Row | None:
    row = (await connection.execute(sa.select(t.work_pool).where(t.work_pool.c.id == pool_id))).mappings().first()
    return dict(row) if row else None


async def read_work_pool_by_name(connection: AsyncConnection, name: str, *, for_update: bool = False) -> Row | None:
    query = sa.select(t.work_pool).where(t.work_pool.c.name == name)
    if for_update:
        query = query.with_for_update()
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else None


async def read_work_pool_or_404(connection: AsyncConnection, name: str, *, for_update: bool = False) -> Row:
    """The pool called `name`; ObjectNotFound with a readable message when there is none."""
    row = await read_work_pool_by_name(connection, name, for_update=for_update)
    if row is None:
        raise ObjectNotFound(f'Work pool "{name}" not found.')
    return row


async def read_work_pools(
    connection: AsyncConnection, condition: sa.ColumnElement[bool], limit: int, offset: int
) -> list[Row]:
    query = sa.select(t.work_pool).where(condition).order_by(t.work_pool.c.name).limit(limit).offset(offset)
    return [dict(row) for row in (await connection.execute(query)).mappings()]


async def count_work_pools(connection: AsyncConnection, condition: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(t.work_pool).where(condition)
    return int((await connection.execute(query)).scalar_one())


async def filter_work_pools(
    connection: AsyncConnection, request: WorkPoolFilterRequest, limit: int, offset: int
) -> list[Row]:
    """The pools matching the filter of `request` as API bodies (with their busy slots), by name."""
    rows = await read_work_pools(connection, work_pool_condition(request.work_pools), limit, offset)
    return await pool_responses(connection, rows)


async def count_work_pools_matching(connection: AsyncConnection, request: WorkPoolFilterRequest) -> int:
    """How many pools match the filter of `request`."""
    return await count_work_pools(connection, work_pool_condition(request.work_pools))


def work_pool_response(row: Row, busy: dict[Any, int] | None = None) -> Row:
    """The API's WorkPool: `active_slots` only when the pool has a concurrency limit (as Prefect)."""
    body = {
        key: value for key, value in row.items() if key not in ("last_transitioned_status_at", "last_status_event_id")
    }
    body["active_slots"] = None if row["concurrency_limit"] is None else (busy or {}).get(row["id"], 0)
    return body


async def pool_responses(connection: AsyncConnection, rows: list[Row]) -> list[Row]:
    """The pools `rows` as API bodies, with the slots their runs hold."""
    limited = [row["id"] for row in rows if row["concurrency_limit"] is not None]
    busy, _ = await count_active_slots(connection, limited)
    return [work_pool_response(row, busy) for row in rows]


async def update_work_pool(connection: AsyncConnection, pool: Row, update: WorkPoolUpdate) -> list[Event]:
    """Apply the fields set in `update`. Pausing makes the pool PAUSED; resuming makes it READY when a worker is
    online, else NOT_READY. A status that changes writes its `prefect.work-pool.<status>` event, returned."""
    values = update.model_dump(mode="json", exclude_unset=True)
    if values.get("is_paused") is True:
        values["status"] = WorkPoolStatus.PAUSED.value
    elif values.get("is_paused") is False and pool["is_paused"]:
        online = await connection.scalar(
            sa.select(sa.func.count())
            .select_from(t.worker)
            .where(t.worker.c.work_pool_id == pool["id"], t.worker.c.status == "ONLINE")
        )
        values["status"] = (WorkPoolStatus.READY if online else WorkPoolStatus.NOT_READY).value
    now = utcnow()
    event_id = uuid.uuid4()
    changed = "status" in values and values["status"] != pool["status"]
    if changed:
        values["last_transitioned_status_at"] = now
        values["last_status_event_id"] = event_id
    await connection.execute(sa.update(t.work_pool).where(t.work_pool.c.id == pool["id"]).values(updated=now, **values))
    if not changed:
        return []
    event = status_events.work_pool_status_event(pool, values["status"], event_id, now, pool)
    return await status_events.record_status_events(connection, [event])


async def delete_work_pool(connection: AsyncConnection, pool_id: uuid.UUID) -> None:
    """Delete the pool with its queues and workers (runs and deployments keep their rows, without a queue)."""
    queue_ids = sa.select(t.work_queue.c.id).where(t.work_queue.c.work_pool_id == pool_id)
    # Foreign keys would do this on PostgreSQL; SQLite only enforces them when each connection turns them on.
    await connection.execute(
        sa.update(t.flow_run).where(t.flow_run.c.work_queue_id.in_(queue_ids)).values(work_queue_id=None)
    )
    await connection.execute(
        sa.update(t.deployment).where(t.deployment.c.work_queue_id.in_(queue_ids)).values(work_queue_id=None)
    )
    await connection.execute(sa.delete(t.worker).where(t.worker.c.work_pool_id == pool_id))
    await connection.execute(sa.delete(t.work_queue).where(t.work_queue.c.work_pool_id == pool_id))
    await connection.execute(sa.delete(t.work_pool).where(t.work_pool.c.id == pool_id))


def _slot_holders() -> sa.Select[Any]:
    """(work_pool_id, work_queue_id, run count) of runs holding slots, per queue."""
    return (
        sa.select(t.work_queue.c.work_pool_id, t.flow_run.c.work_queue_id, sa.func.count().label("busy"))
        .select_from(t.flow_run.join(t.work_queue, t.work_queue.c.id == t.flow_run.c.work_queue_id))
        .where(t.flow_run.c.state_type.in_(SLOT_HOLDING_STATE_TYPES))
        .group_by(t.work_queue.c.work_pool_id, t.flow_run.c.work_queue_id)
    )


async def count_active_slots(
    connection: AsyncConnection, pool_ids: list[uuid.UUID]
) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, int]]:
    """Runs holding slots (Pending, Running, Cancelling), per pool and per queue of the pools in `pool_ids`."""
    per_pool: dict[uuid.UUID, int] = {}
    per_queue: dict[uuid.UUID, int] = {}
    if not pool_ids:
        return per_pool, per_queue
    query = _slot_holders().where(t.work_queue.c.work_pool_id.in_(pool_ids))
    for pool_id, queue_id, busy in await connection.execute(query):
        per_pool[pool_id] = per_pool.get(pool_id, 0) + busy
        per_queue[queue_id] = busy
    return per_pool, per_queue

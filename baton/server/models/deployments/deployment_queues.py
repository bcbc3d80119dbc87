"""Which work queue a deployment (or a run created from it) goes to, from the pool and queue names a client gives.

Follows Prefect: pool and queue -> that queue, created in the pool if missing; pool only -> the pool's default
queue; queue only -> a queue of that name in `default-agent-pool` (created, with the pool, when missing); neither ->
no queue (a deployment served by `flow.serve()`). A pool that does not exist is an error.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.errors import ObjectNotFound
from baton.server.database import tables as t
from baton.server.database.dialects import dialect_of
from baton.server.database.types import utcnow

DEFAULT_AGENT_POOL_NAME = "default-agent-pool"
DEFAULT_AGENT_POOL_TYPE = "prefect-agent"
DEFAULT_QUEUE_NAME = "default"


async def resolve_work_queue_id(
    connection: AsyncConnection, pool_name: str | None, queue_name: str | None
) -> uuid.UUID | None:
    """The id of the queue a deployment with these names uses; raises ObjectNotFound for an unknown pool."""
    if pool_name is None and queue_name is None:
        return None
    pool: dict[str, Any] | None
    if pool_name is None:
        pool = await ensure_default_agent_pool(connection)
    else:
        pool = await _read_pool(connection, pool_name)
        if pool is None:
            if pool_name != DEFAULT_AGENT_POOL_NAME:
                raise ObjectNotFound(f"Work pool '{pool_name}' does not exist.")
            pool = await ensure_default_agent_pool(connection)
    assert pool is not None
    if queue_name is None:
        return pool["default_queue_id"]
    return await _ensure_queue(connection, pool["id"], queue_name)


async def read_queue_names(connection: AsyncConnection, work_queue_id: uuid.UUID | None) -> dict[str, Any]:
    """{"work_queue_name", "work_pool_name"} of a queue; both None when there is none."""
    if work_queue_id is None:
        return {"work_queue_name": None, "work_pool_name": None}
    query = (
        sa.select(t.work_queue.c.name.label("work_queue_name"), t.work_pool.c.name.label("work_pool_name"))
        .join(t.work_pool, t.work_pool.c.id == t.work_queue.c.work_pool_id)
        .where(t.work_queue.c.id == work_queue_id)
    )
    row = (await connection.execute(query)).mappings().first()
    return dict(row) if row else {"work_queue_name": None, "work_pool_name": None}


async def _read_pool(connection: AsyncConnection, name: str) -> dict[str, Any] | None:
    row = (await connection.execute(sa.select(t.work_pool).where(t.work_pool.c.name == name))).mappings().first()
    return dict(row) if row else None


async def ensure_default_agent_pool(connection: AsyncConnection) -> dict[str, Any]:
    """The `default-agent-pool` (with its default queue), created when missing, as Prefect does for a queue or
    deployment given without a pool."""
    pool = await _read_pool(connection, DEFAULT_AGENT_POOL_NAME)
    if pool is not None:
        return pool
    now = utcnow()
    insert = (
        dialect_of(connection)
        .insert(t.work_pool)
        .values(
            id=uuid.uuid4(),
            created=now,
            updated=now,
            name=DEFAULT_AGENT_POOL_NAME,
            type=DEFAULT_AGENT_POOL_TYPE,
            base_job_template={},
            is_paused=False,
            status="NOT_READY",
            storage_configuration={},
        )
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await connection.execute(insert)
    pool = await _read_pool(connection, DEFAULT_AGENT_POOL_NAME)
    assert pool is not None
    if pool["default_queue_id"] is None:
        queue_id = await _ensure_queue(connection, pool["id"], DEFAULT_QUEUE_NAME)
        await connection.execute(
            sa.update(t.work_pool).where(t.work_pool.c.id == pool["id"]).values(default_queue_id=queue_id)
        )
        pool["default_queue_id"] = queue_id
    return pool


async def _ensure_queue(connection: AsyncConnection, pool_id: uuid.UUID, name: str) -> uuid.UUID:
    """The id of the pool's queue `name`, created (priority after the pool's others) when missing."""
    queue = t.work_queue
    existing = await connection.scalar(
        sa.select(queue.c.id).where(queue.c.work_pool_id == pool_id, queue.c.name == name)
    )
    if existing is not None:
        return existing
    lowest = await connection.scalar(sa.select(sa.func.max(queue.c.priority)).where(queue.c.work_pool_id == pool_id))
    now = utcnow()
    insert = (
        dialect_of(connection)
        .insert(queue)
        .values(
            id=uuid.uuid4(),
            created=now,
            updated=now,
            name=name,
            description="",
            is_paused=False,
            priority=(lowest or 0) + 1,
            status="NOT_READY",
            work_pool_id=pool_id,
        )
        .on_conflict_do_nothing(index_elements=["work_pool_id", "name"])
    )
    await connection.execute(insert)
    queue_id = await connection.scalar(
        sa.select(queue.c.id).where(queue.c.work_pool_id == pool_id, queue.c.name == name)
    )
    assert queue_id is not None
    return queue_id

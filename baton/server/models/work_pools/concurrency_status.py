"""The concurrency status of a work pool or queue: how many slots are busy and which flow runs hold them.

A run holds a slot of its queue and pool while it is Pending, Running or Cancelling (`SLOT_HOLDING_STATE_TYPES`,
the same count as a pool's and queue's `active_slots`). Runs are listed by id, as Prefect lists them.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from baton.server.database import tables as t
from baton.server.database.types import utcnow
from baton.server.models.work_pools.work_pools import SLOT_HOLDING_STATE_TYPES, count_active_slots
from baton.server.models.work_pools.work_queues import read_work_queues
from baton.server.schemas.work_pools import (
    FlowRunSlotSummary,
    WorkPoolConcurrencyStatus,
    WorkQueueConcurrencyStatus,
    WorkQueueConcurrencyStatusDetail,
)

Row = dict[str, Any]

_RUN_COLUMNS = (
    t.flow_run.c.id,
    t.flow_run.c.name,
    t.flow_run.c.work_queue_id,
    t.flow_run.c.state_type,
    t.flow_run.c.state_name,
    t.flow_run.c.start_time,
    t.flow_run.c.state_timestamp,
)


def select_slot_holders(queue_ids: list[uuid.UUID] | sa.Select[Any]) -> sa.Select[Any]:
    """The runs holding slots of the queues `queue_ids` (a list, or a SELECT of ids), by run id."""
    return (
        sa.select(*_RUN_COLUMNS)
        .where(t.flow_run.c.work_queue_id.in_(queue_ids), t.flow_run.c.state_type.in_(SLOT_HOLDING_STATE_TYPES))
        .order_by(t.flow_run.c.id)
    )


def _summary(run: Any) -> FlowRunSlotSummary:
    now = utcnow()
    return FlowRunSlotSummary(
        id=run.id,
        name=run.name,
        state_type=run.state_type,
        state_name=run.state_name,
        start_time=run.start_time,
        state_timestamp=run.state_timestamp,
        time_in_current_state=None if run.state_timestamp is None else now - run.state_timestamp,
    )


def _pages(count: int, limit: int) -> int:
    return (count + limit - 1) // limit if limit > 0 else 0


async def read_work_pool_concurrency_status(
    connection: AsyncConnection, pool: Row, *, page: int, limit: int, flow_run_limit: int
) -> WorkPoolConcurrencyStatus:
    """The pool's busy slots, and page `page` of its queues (`limit` a page, highest priority first), each with its
    busy slots and at most `flow_run_limit` of the runs holding them."""
    per_pool, per_queue = await count_active_slots(connection, [pool["id"]])
    in_pool = t.work_queue.c.work_pool_id == pool["id"]
    queue_count = int(await connection.scalar(sa.select(sa.func.count()).select_from(t.work_queue).where(in_pool)) or 0)
    queues = await read_work_queues(connection, in_pool, limit, (page - 1) * limit)
    runs: dict[uuid.UUID, list[FlowRunSlotSummary]] = {queue["id"]: [] for queue in queues}
    if queues and flow_run_limit > 0:
        for run in await connection.execute(select_slot_holders(list(runs))):
            listed = runs[run.work_queue_id]
            if len(listed) < flow_run_limit:
                listed.append(_summary(run))
    return WorkPoolConcurrencyStatus(
        active_slots=per_pool.get(pool["id"], 0),
        concurrency_limit=pool["concurrency_limit"],
        queues=[
            WorkQueueConcurrencyStatusDetail(
                queue_id=queue["id"],
                queue_name=queue["name"],
                active_slots=per_queue.get(queue["id"], 0),
                concurrency_limit=queue["concurrency_limit"],
                flow_runs=runs[queue["id"]],
                flow_run_count=per_queue.get(queue["id"], 0),
            )
            for queue in queues
        ],
        count=queue_count,
        limit=limit,
        pages=_pages(queue_count, limit),
        page=page,
    )


async def read_work_queue_concurrency_status(
    connection: AsyncConnection, queue: Row, *, page: int, limit: int
) -> WorkQueueConcurrencyStatus:
    """The queue's busy slots, and page `page` of the runs holding them (`limit` a page, by run id)."""
    holding = (t.flow_run.c.work_queue_id == queue["id"]) & t.flow_run.c.state_type.in_(SLOT_HOLDING_STATE_TYPES)
    count = int(await connection.scalar(sa.select(sa.func.count()).select_from(t.flow_run).where(holding)) or 0)
    rows = await connection.execute(select_slot_holders([queue["id"]]).limit(limit).offset((page - 1) * limit))
    return WorkQueueConcurrencyStatus(
        active_slots=count,
        concurrency_limit=queue["concurrency_limit"],
        flow_runs=[_summary(run) for run in rows],
        count=count,
        limit=limit,
        pages=_pages(count, limit),
        page=page,
    )
